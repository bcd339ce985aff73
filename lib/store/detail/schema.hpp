#pragma once

#include <chrono>
#include <filesystem>

#include "store/detail/sqlite.hpp"

namespace chat::store::detail {

// Opens (creating if missing) the history index for the writer: checks it
// with PRAGMA quick_check, switches it to WAL with synchronous=NORMAL,
// creates the tables and brings a file of an older schema up to date, moving
// its messages into the chunk file at `chunks_path`. Throws sqlite_error for
// what SQLite refuses and store_error for what it accepts but this code
// cannot use (corrupt, read-only, a newer schema), or a chunk file that
// cannot be written.
connection open_for_writing(const std::filesystem::path& file,
                            const std::filesystem::path& chunks_path,
                            std::chrono::milliseconds busy_timeout);

// A second, read-only connection to a file open_for_writing() has set up.
// In WAL mode it reads a committed snapshot and never waits for the writer.
connection open_for_reading(const std::filesystem::path& file,
                            std::chrono::milliseconds busy_timeout);

}  // namespace chat::store::detail
