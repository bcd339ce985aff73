// A history directory as a crash or a damaged disk may leave it (see
// history_input.hpp), opened through the public API as the server opens
// --data-dir: history_database must refuse it with a store_error or open it,
// and then serve pages without crashing, every page in order and in range,
// and a message appended after open must be there to read back (unless
// retention, when the input turns it on, has dropped it already).
//
// The index is a real SQLite database (copied from one made at start-up)
// with the input's rows; the files live under /dev/shm when there is one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <sqlite3.h>
#include <unistd.h>

#include "fuzz_input.hpp"
#include "history_input.hpp"
#include "store/history_database.hpp"

namespace {

namespace fs = std::filesystem;
using chat::fuzz::require;
using chat::store::history_database;
using chat::store::stored_message;

fs::path base_dir() {
  std::error_code ec;
  const fs::path shm = "/dev/shm";
  const fs::path parent = fs::is_directory(shm, ec) ? shm : fs::temp_directory_path();
  return parent / ("chat-fuzz-history-" + std::to_string(::getpid()));
}

// An empty index of the current schema, made once.
const fs::path& template_index() {
  static const fs::path file = [] {
    const fs::path dir = base_dir() / "template";
    fs::remove_all(dir);
    {
      history_database made(dir, [](std::string_view) {});
    }
    std::atexit([] { fs::remove_all(base_dir()); });
    return dir / history_database::file_name;
  }();
  return file;
}

void execute(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  require(rc == SQLITE_OK, "the target's own SQL runs", error != nullptr ? error : sql.c_str());
}

void plant_index(const fs::path& file, const chat::fuzz::history_input& input) {
  sqlite3* db = nullptr;
  require(sqlite3_open(file.c_str(), &db) == SQLITE_OK, "the planted index opens");
  execute(db, "PRAGMA synchronous = OFF; BEGIN");
  execute(db, "UPDATE sequence SET highest_id = " + std::to_string(input.highest_id));
  for (const auto& row : input.rows) {
    const std::string_view room =
        chat::fuzz::history_rooms[row.room % std::size(chat::fuzz::history_rooms)];
    execute(db, "INSERT OR IGNORE INTO chunks VALUES ('" + std::string(room) + "', " +
                    std::to_string(row.first_id) + ", " + std::to_string(row.last_id) + ", " +
                    std::to_string(row.position) + ", " + std::to_string(row.size) + ", " +
                    (row.has_newest_ts ? std::to_string(row.newest_ts) : "NULL") + ")");
  }
  execute(db, "COMMIT");
  sqlite3_close(db);
}

void check_page(const std::vector<stored_message>& page, std::string_view room, std::uint64_t above,
                std::uint64_t below) {
  for (std::size_t i = 0; i < page.size(); ++i) {
    require(page[i].room == room, "a page holds its room's messages");
    require(page[i].id > above && (below == 0 || page[i].id < below), "a page keeps to its range");
    require(i == 0 || page[i - 1].id < page[i].id, "a page is in id order");
  }
}

// Problems the store reports are expected here; FUZZ_VERBOSE=1 shows them.
void report(std::string_view line) {
  static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "store: %.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const chat::fuzz::history_input input =
      chat::fuzz::read_history_input(chat::fuzz::as_text(data, size));
  const fs::path dir = base_dir() / "run";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(template_index(), dir / history_database::file_name);
  plant_index(dir / history_database::file_name, input);
  std::ofstream(dir / history_database::chunks_file_name, std::ios::binary) << input.chunks;

  chat::store::history_options options;
  options.sync = chat::store::sync_mode::none;
  options.batch_interval = std::chrono::milliseconds(0);
  if ((input.flags & 1) != 0) options.max_bytes = input.max_bytes;
  if ((input.flags & 2) != 0) options.max_age = std::chrono::seconds(1);
  try {
    history_database history(dir, report, options);
    for (const std::string_view room : {"lobby", "dev"}) {
      check_page(history.load(room, 0, 200), room, 0, 0);
      check_page(history.load(room, 3, 10), room, 0, 3);
      const auto replay = history.load_after(room, 1, 0, 50);
      check_page(replay.messages, room, 1, 0);
    }
    if ((input.flags & 4) != 0) {
      const std::uint64_t id = history.last_id() + 1;
      // Ids must stay below 2^63 (SQLite's integers are signed).
      if (id < (std::uint64_t{1} << 62)) {
        history.append({id, 1'700'000'000'000, "lobby", "alice", "after the damage"});
        history.flush();
        const auto newest = history.load("lobby", 0, 1);
        // Retention may drop it at once (its chunk is old or too big).
        const bool retained = (input.flags & 3) != 0;
        require((retained && newest.empty()) || (newest.size() == 1 && newest[0].id == id),
                "a message appended reads back",
                "appended " + std::to_string(id) + ", newest " +
                    (newest.empty() ? "none" : std::to_string(newest[0].id)));
      }
    }
  } catch (const chat::store::store_error&) {
    // Refused at open, as a damaged directory may be.
  }
  return 0;
}
