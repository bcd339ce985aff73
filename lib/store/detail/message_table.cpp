#include "store/detail/message_table.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <string>

#include "store/detail/chunk.hpp"

namespace chat::store::detail {

namespace {

constexpr std::uint64_t int64_max = std::numeric_limits<std::int64_t>::max();

std::int64_t to_int64(std::uint64_t value) {
  return static_cast<std::int64_t>(std::min(value, int64_max));
}

// One room's share of a batch, packed.
struct pending_chunk {
  std::uint64_t first_id = 0;
  std::uint64_t last_id = 0;
  std::size_t count = 0;
  std::string bytes;
};

}  // namespace

message_writer::message_writer(connection& db)
    : db_(db),
      // IMMEDIATE takes the write lock up front, so a busy database fails
      // the BEGIN rather than a commit half-way through.
      begin_(db, "BEGIN IMMEDIATE"),
      // A chunk stored twice is a bug upstream (or two servers sharing the
      // file); losing the rest of the batch to it would be worse, so it is
      // skipped and counted.
      insert_(db, "INSERT OR IGNORE INTO chunks(room, first_id, last_id, data) "
                  "VALUES (?1, ?2, ?3, ?4)"),
      raise_sequence_(db, "UPDATE sequence SET highest_id = max(highest_id, ?1)"),
      commit_(db, "COMMIT"),
      rollback_(db, "ROLLBACK"),
      highest_id_(db, "SELECT highest_id FROM sequence") {}

std::size_t message_writer::write(const packed_messages& batch) {
  // A room's messages reach the queue in id order (history_database::append),
  // so each room's chunk is in id order too.
  std::map<std::string_view, pending_chunk> chunks;
  std::uint64_t highest = 0;
  batch.for_each([&](const routed_record& m) {
    highest = std::max(highest, m.id);
    if (m.room.empty()) return;  // only the id is kept
    pending_chunk& chunk = chunks[m.room];
    if (chunk.count++ == 0) chunk.first_id = m.id;
    chunk.last_id = m.id;
    chunk.bytes.append(m.record);
  });

  std::size_t skipped = 0;
  try {
    {
      reset_on_exit reset(begin_);
      begin_.step();
    }
    for (const auto& [room, chunk] : chunks) {
      reset_on_exit reset(insert_);
      insert_.bind(1, room);
      insert_.bind(2, to_int64(chunk.first_id));
      insert_.bind(3, to_int64(chunk.last_id));
      insert_.bind_blob(4, chunk.bytes);
      insert_.step();
      if (sqlite3_changes(db_.get()) == 0) skipped += chunk.count;
    }
    {
      reset_on_exit reset(raise_sequence_);
      raise_sequence_.bind(1, to_int64(highest));
      raise_sequence_.step();
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
  if (!highest_id_.step()) return 0;
  return static_cast<std::uint64_t>(std::max<std::int64_t>(highest_id_.column_int(0), 0));
}

message_reader::message_reader(connection& db)
    : select_(db, "SELECT data FROM chunks WHERE room = ?1 AND first_id < ?2 "
                  "ORDER BY first_id DESC") {}

std::vector<stored_message> message_reader::newest(std::string_view room, std::uint64_t before,
                                                   std::size_t limit) {
  reset_on_exit reset(select_);
  select_.bind(1, room);
  select_.bind(2, before == 0 ? to_int64(int64_max) : to_int64(before));
  std::vector<stored_message> found;
  // Chunks of a room do not overlap: walking them newest first, the first
  // `limit` messages below `before` are the ones wanted.
  while (found.size() < limit && select_.step()) {
    auto messages = unpack_chunk(select_.column_blob(0), room);
    for (auto m = messages.rbegin(); m != messages.rend() && found.size() < limit; ++m) {
      if (before == 0 || m->id < before) found.push_back(std::move(*m));
    }
  }
  return found;
}

}  // namespace chat::store::detail
