#pragma once

#include <chrono>
#include <filesystem>

#include "store/detail/chunk_file.hpp"
#include "sqlite/sqlite.hpp"

namespace chat::store::detail {

// Indexes one chunk: ?1 room, ?2 first id, ?3 last id, ?4 position in the
// chunk file, ?5 size, ?6 the newest ts in it (NULL: unknown, read it from
// the chunk). A chunk stored twice is a bug upstream; losing the rest of its
// batch to it would be worse, so it is ignored (and counted).
inline constexpr const char* insert_chunk_sql =
    "INSERT OR IGNORE INTO chunks(room, first_id, last_id, position, size, newest_ts) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// Raises room ?1's floor to ?2 (floors only rise).
inline constexpr const char* raise_floor_sql =
    "INSERT INTO floors(room, lost_through) VALUES (?1, ?2) "
    "ON CONFLICT(room) DO UPDATE SET lost_through = max(lost_through, excluded.lost_through)";

// Opens (creating if missing) the history index for the writer: checks it
// with PRAGMA quick_check, switches it to WAL with synchronous=NORMAL (FULL
// with `durable_commits`: every commit synced),
// creates the tables and brings a file of an older schema up to date, moving
// its messages into `chunks`. Throws sqlite_error for what SQLite refuses and
// store_error for what it accepts but this code cannot use (corrupt,
// read-only, a newer schema), for a new index beside a chunk file that holds
// messages, or for a chunk file that cannot be written.
sqlite::connection open_for_writing(const std::filesystem::path& file, chunk_file& chunks,
                                    std::chrono::milliseconds busy_timeout, bool durable_commits);

// A second, read-only connection to a file open_for_writing() has set up.
// In WAL mode it reads a committed snapshot and never waits for the writer.
sqlite::connection open_for_reading(const std::filesystem::path& file,
                                    std::chrono::milliseconds busy_timeout);

}  // namespace chat::store::detail
