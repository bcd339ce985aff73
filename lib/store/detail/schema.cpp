#include "store/detail/schema.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "store/detail/quoted.hpp"
#include "store/store_error.hpp"

namespace chat::store::detail {

namespace {

// Stored in PRAGMA user_version; raise it with every change to the tables.
constexpr std::int64_t schema_version = 1;

// `id` is the rowid alias, so the table is ordered by id and the index on
// (room, id) serves "the last N of a room before X" as one range scan.
constexpr const char* create_schema = R"sql(
CREATE TABLE IF NOT EXISTS messages(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  room TEXT NOT NULL,
  sender TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_room ON messages(room, id);
)sql";

void check_integrity(connection& db, const std::filesystem::path& file) {
  statement check(db, "PRAGMA quick_check(3)");
  reset_on_exit reset(check);
  std::string problems;
  while (check.step()) {
    std::string row = check.column_text(0);
    if (row == "ok") return;
    // Rows may span lines; the report must stay one log line.
    std::replace(row.begin(), row.end(), '\n', ' ');
    if (!problems.empty()) problems += "; ";
    problems += row;
  }
  throw store_error("history database " + quoted(file) + " is corrupt (" + problems +
                    "); move it away or restore it from a backup");
}

void check_version(connection& db, const std::filesystem::path& file) {
  statement version(db, "PRAGMA user_version");
  reset_on_exit reset(version);
  version.step();
  if (const std::int64_t found = version.column_int(0); found > schema_version) {
    throw store_error("history database " + quoted(file) + " has schema version " +
                      std::to_string(found) + ", newer than this server knows (" +
                      std::to_string(schema_version) + ")");
  }
}

void use_wal(connection& db, const std::filesystem::path& file) {
  statement mode(db, "PRAGMA journal_mode = WAL");
  reset_on_exit reset(mode);
  mode.step();
  // SQLite answers with the mode it is in, which stays the old one where WAL
  // is impossible (no shared memory on some network file systems).
  if (const std::string got = mode.column_text(0); got != "wal") {
    throw store_error("history database " + quoted(file) +
                      " cannot use WAL mode (journal mode is '" + got + "')");
  }
}

void set_busy_timeout(connection& db, std::chrono::milliseconds busy_timeout) {
  const auto ms = std::clamp<std::chrono::milliseconds::rep>(busy_timeout.count(), 0,
                                                             std::numeric_limits<int>::max());
  db.check(sqlite3_busy_timeout(db.get(), static_cast<int>(ms)));
}

}  // namespace

connection open_for_writing(const std::filesystem::path& file,
                            std::chrono::milliseconds busy_timeout) {
  connection db(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  // SQLite quietly falls back to read-only when the file is write-protected;
  // a store that cannot write must say so now, not lose every message later.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    throw store_error("history database " + quoted(file) + " is read-only");
  }
  set_busy_timeout(db, busy_timeout);
  // The first read: a file that is not a database fails here with SQLITE_NOTADB.
  check_integrity(db, file);
  check_version(db, file);
  use_wal(db, file);
  // In WAL mode NORMAL syncs at checkpoints only: a power cut may lose the
  // last commits but never corrupts the file.
  db.execute("PRAGMA synchronous = NORMAL");
  db.execute("BEGIN IMMEDIATE");
  db.execute(create_schema);
  db.execute(("PRAGMA user_version = " + std::to_string(schema_version)).c_str());
  db.execute("COMMIT");
  return db;
}

connection open_for_reading(const std::filesystem::path& file,
                            std::chrono::milliseconds busy_timeout) {
  connection db(file, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  set_busy_timeout(db, busy_timeout);
  return db;
}

}  // namespace chat::store::detail
