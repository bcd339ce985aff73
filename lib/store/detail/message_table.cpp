#include "store/detail/message_table.hpp"

#include <algorithm>
#include <limits>

namespace chat::store::detail {

namespace {

constexpr std::uint64_t int64_max = std::numeric_limits<std::int64_t>::max();

std::int64_t to_int64(std::uint64_t value) {
  return static_cast<std::int64_t>(std::min(value, int64_max));
}

}  // namespace

message_writer::message_writer(connection& db)
    : db_(db),
      // IMMEDIATE takes the write lock up front, so a busy database fails
      // the BEGIN rather than a commit half-way through.
      begin_(db, "BEGIN IMMEDIATE"),
      // An id stored twice is a bug upstream; losing the rest of the batch
      // to it would be worse, so the duplicate is skipped and counted.
      insert_(db, "INSERT OR IGNORE INTO messages(id, ts, room, sender, text) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)"),
      commit_(db, "COMMIT"),
      rollback_(db, "ROLLBACK"),
      highest_id_(db, "SELECT max(id) FROM messages") {}

std::size_t message_writer::write(const std::deque<stored_message>& batch) {
  std::size_t skipped = 0;
  try {
    {
      reset_on_exit reset(begin_);
      begin_.step();
    }
    for (const stored_message& m : batch) {
      reset_on_exit reset(insert_);
      insert_.bind(1, to_int64(m.id));
      insert_.bind(2, m.ts_ms);
      insert_.bind(3, m.room);
      insert_.bind(4, m.from);
      insert_.bind(5, m.text);
      insert_.step();
      if (sqlite3_changes(db_.get()) == 0) ++skipped;
    }
    reset_on_exit reset(commit_);
    commit_.step();
  } catch (const sqlite_error&) {
    // SQLite may already have rolled back (after a full disk, for one).
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      reset_on_exit reset(rollback_);
      try {
        rollback_.step();
      } catch (const sqlite_error&) {
        // The first failure is the one worth reporting.
      }
    }
    throw;
  }
  return skipped;
}

std::uint64_t message_writer::highest_id() {
  reset_on_exit reset(highest_id_);
  highest_id_.step();
  return static_cast<std::uint64_t>(std::max<std::int64_t>(highest_id_.column_int(0), 0));
}

message_reader::message_reader(connection& db)
    : select_(db, "SELECT id, ts, sender, text FROM messages WHERE room = ?1 AND id < ?2 "
                  "ORDER BY id DESC LIMIT ?3") {}

std::vector<stored_message> message_reader::newest(std::string_view room, std::uint64_t before,
                                                   std::size_t limit) {
  reset_on_exit reset(select_);
  select_.bind(1, room);
  select_.bind(2, before == 0 ? to_int64(int64_max) : to_int64(before));
  select_.bind(3, to_int64(limit));
  std::vector<stored_message> found;
  while (select_.step()) {
    found.push_back(stored_message{
        .id = static_cast<std::uint64_t>(select_.column_int(0)),
        .ts_ms = select_.column_int(1),
        .room = std::string(room),
        .from = select_.column_text(2),
        .text = select_.column_text(3),
    });
  }
  return found;
}

}  // namespace chat::store::detail
