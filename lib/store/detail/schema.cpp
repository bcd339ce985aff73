#include "store/detail/schema.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include "store/detail/chunk.hpp"
#include "store/detail/chunk_file.hpp"
#include "store/detail/quoted.hpp"
#include "store/store_error.hpp"

namespace chat::store::detail {

using sqlite::connection;
using sqlite::reset_on_exit;
using sqlite::statement;
using sqlite::to_int64;

namespace {

// Stored in PRAGMA user_version; raise it with every change to the tables.
// 1: a row per message. 2: a chunk per room per written batch, as a BLOB.
// 3: the chunks' bytes in the chunk file, their places here. 4: each chunk's
// newest ts (retention by age), rooms' floors, chunks indexed by position.
constexpr std::int64_t schema_version = 4;

// A room's chunks do not overlap, so the index on (room, first_id) serves
// "the last N of a room before X" as one backwards range scan. `sequence`
// holds one row: the highest id handed out, kept even for messages whose
// text is not (direct messages, --history 0). Retention drops chunks from the
// front of the chunk file, hence the index on position. `floors` holds, per
// room, the highest id that may be missing (a failed write, retention, a
// crash), so that a resume is told of a gap rather than shown a seamless
// page with holes in it.
constexpr const char* create_schema = R"sql(
CREATE TABLE IF NOT EXISTS chunks(
  room TEXT NOT NULL,
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  size INTEGER NOT NULL,
  newest_ts INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_room ON chunks(room, first_id);
CREATE INDEX IF NOT EXISTS chunks_by_position ON chunks(position);
CREATE TABLE IF NOT EXISTS sequence(highest_id INTEGER NOT NULL);
INSERT INTO sequence(highest_id) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM sequence);
CREATE TABLE IF NOT EXISTS floors(
  room TEXT PRIMARY KEY,
  lost_through INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 3 had no newest_ts: left NULL, retention reads it from the chunk
// when it gets there, rather than the upgrade reading every chunk at once.
constexpr const char* upgrade_version_3 = "ALTER TABLE chunks ADD COLUMN newest_ts INTEGER";

// Moves chunks of an older schema into the chunk file, from its start: the
// index is empty, so whatever the file held is unreachable.
class chunk_mover {
public:
  chunk_mover(connection& db, chunk_file& chunks)
      : chunks_(chunks), insert_(db, insert_chunk_sql) {}

  void move(std::string_view room, std::int64_t first_id, std::int64_t last_id,
            std::string_view bytes) {
    try {
      chunks_.write_at(end_, bytes);
    } catch (const std::system_error& e) {
      throw failure(e);
    }
    reset_on_exit reset(insert_);
    insert_.bind(1, room);
    insert_.bind(2, first_id);
    insert_.bind(3, last_id);
    insert_.bind(4, to_int64(end_));
    insert_.bind(5, to_int64(bytes.size()));
    std::optional<std::int64_t> newest;
    try {
      newest = newest_ts_in_chunk(bytes);
    } catch (const std::runtime_error&) {
      // Damaged already: moved as it is, reported when read, dropped by age first.
    }
    if (newest) {
      insert_.bind(6, *newest);
    } else {
      insert_.bind_null(6);
    }
    insert_.step();
    end_ += bytes.size();
  }

  // Before the old tables go: unlike a batch, which a crash may cost, a
  // migration lost after its commit would be all the history there was.
  void make_durable() {
    try {
      chunks_.sync();
    } catch (const std::system_error& e) {
      throw failure(e);
    }
  }

private:
  static store_error failure(const std::system_error& e) {
    return store_error(std::string("cannot move history: ") + e.what());
  }

  chunk_file& chunks_;
  statement insert_;
  std::uint64_t end_ = 0;
};

// Version 1 kept a row per message in `messages`; each room's rows become
// chunks of this many.
constexpr std::size_t migrated_chunk_size = 1'000;

void migrate_from_version_1(connection& db, chunk_mover& mover) {
  // Version 1 also kept id-only rows with an empty room: the sequence has them.
  statement select(db,
                   "SELECT id, ts, room, sender, text FROM messages WHERE room <> '' "
                   "ORDER BY room, id");
  std::string room;
  std::string bytes;
  std::int64_t first_id = 0;
  std::int64_t last_id = 0;
  std::size_t count = 0;
  const auto store_chunk = [&] {
    if (count == 0) return;
    mover.move(room, first_id, last_id, bytes);
    bytes.clear();
    count = 0;
  };
  {
    reset_on_exit reset(select);
    while (select.step()) {
      stored_message m{.id = static_cast<std::uint64_t>(select.column_int(0)),
                       .ts_ms = select.column_int(1),
                       .room = select.column_text(2),
                       .from = select.column_text(3),
                       .text = select.column_text(4)};
      if (m.room != room || count == migrated_chunk_size) {
        store_chunk();
        room = m.room;
      }
      if (count++ == 0) first_id = static_cast<std::int64_t>(m.id);
      last_id = static_cast<std::int64_t>(m.id);
      append_to_chunk(bytes, m);
    }
    store_chunk();
  }
  db.execute("UPDATE sequence SET highest_id = (SELECT coalesce(max(id), 0) FROM messages)");
  db.execute("DROP TABLE messages");
}

// Version 2 kept each chunk's bytes in the row. Its table is renamed out of
// the way before the current one is created.
constexpr const char* set_version_2_aside = R"sql(
DROP INDEX chunks_by_room;
ALTER TABLE chunks RENAME TO chunks_with_data;
)sql";

void migrate_from_version_2(connection& db, chunk_mover& mover) {
  {
    statement select(db,
                     "SELECT room, first_id, last_id, data FROM chunks_with_data "
                     "ORDER BY rowid");
    reset_on_exit reset(select);
    while (select.step()) {
      mover.move(select.column_text(0), select.column_int(1), select.column_int(2),
                 select.column_blob(3));
    }
  }
  db.execute("DROP TABLE chunks_with_data");
}

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
                    "); restore it from a backup, or move it and the chunk file away");
}

// The file's schema version, refusing one this code cannot use.
std::int64_t check_version(connection& db, const std::filesystem::path& file) {
  std::int64_t found = 0;
  {
    statement version(db, "PRAGMA user_version");
    reset_on_exit reset(version);
    version.step();
    found = version.column_int(0);
  }
  if (found > schema_version) {
    throw store_error("history database " + quoted(file) + " has schema version " +
                      std::to_string(found) + ", newer than this server knows (" +
                      std::to_string(schema_version) + ")");
  }
  if (found == 0) {
    // Version 0 is a file this server never set up: fine when empty, not
    // when another program keeps its own tables in it.
    statement tables(db, "SELECT count(*) FROM sqlite_schema");
    reset_on_exit reset(tables);
    tables.step();
    if (tables.column_int(0) != 0) {
      throw store_error("history database " + quoted(file) +
                        " holds tables this server did not create; move it away or use "
                        "another directory");
    }
  }
  return found;
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

connection open_for_writing(const std::filesystem::path& file, chunk_file& chunks,
                            std::chrono::milliseconds busy_timeout, bool durable_commits) {
  connection db(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  // SQLite quietly falls back to read-only when the file is write-protected;
  // a store that cannot write must say so now, not lose every message later.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    throw store_error("history database " + quoted(file) + " is read-only");
  }
  set_busy_timeout(db, busy_timeout);
  // The first read: a file that is not a database fails here with SQLITE_NOTADB.
  check_integrity(db, file);
  const std::int64_t version = check_version(db, file);
  if (version == 0 && chunks.size() != 0) {
    // A new index would cut the file back to nothing (message_writer).
    throw store_error("history file " + quoted(chunks.path()) + " holds messages but " +
                      quoted(file) + " does not index them; restore the index, or move " +
                      quoted(chunks.path()) + " away to start afresh");
  }
  use_wal(db, file);
  // In WAL mode NORMAL syncs at checkpoints only: a power cut may lose the
  // last commits but never corrupts the file. FULL syncs the WAL at every
  // commit: a commit reported is a commit kept.
  db.execute(durable_commits ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  db.execute("BEGIN IMMEDIATE");
  if (version == 2) db.execute(set_version_2_aside);
  if (version == 3) db.execute(upgrade_version_3);
  db.execute(create_schema);
  if (version == 1 || version == 2) {
    chunk_mover mover(db, chunks);
    if (version == 1) migrate_from_version_1(db, mover);
    if (version == 2) migrate_from_version_2(db, mover);
    mover.make_durable();
  }
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
