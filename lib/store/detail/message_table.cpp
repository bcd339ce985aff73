#include "store/detail/message_table.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "store/detail/chunk.hpp"
#include "store/detail/quoted.hpp"
#include "store/detail/schema.hpp"
#include "store/store_error.hpp"

namespace chat::store::detail {

using sqlite::connection;
using sqlite::int64_max;
using sqlite::reset_on_exit;
using sqlite::sqlite_error;
using sqlite::statement;
using sqlite::to_int64;

namespace {

// A burst of long messages may grow the write buffer; past this it is let go
// once the batch is written.
constexpr std::size_t max_kept_buffer = std::size_t{4} << 20;

// One room's share of a batch, counted in a first pass over it so that the
// second can copy each record straight to its place in the write buffer.
struct room_share {
  std::uint64_t first_id = 0;
  std::uint64_t last_id = 0;
  std::int64_t newest_ts = 0;
  std::size_t count = 0;
  std::size_t size = 0;
  // Where the room's chunk begins in the buffer, and how much of it the
  // second pass has copied.
  std::size_t at = 0;
  std::size_t filled = 0;
};

}  // namespace

void raise_floor(room_floors& floors, std::string_view room, std::uint64_t id) {
  if (const auto found = floors.find(room); found != floors.end()) {
    found->second = std::max(found->second, id);
  } else {
    floors.emplace(std::string(room), id);
  }
}

message_writer::message_writer(connection& db, chunk_file& chunks)
    : db_(db),
      chunks_(chunks),
      // IMMEDIATE takes the write lock up front, so a busy database fails
      // the BEGIN rather than a commit half-way through.
      begin_(db, "BEGIN IMMEDIATE"),
      insert_(db, insert_chunk_sql),
      raise_sequence_(db, "UPDATE sequence SET highest_id = max(highest_id, ?1)"),
      raise_floor_(db, raise_floor_sql),
      commit_(db, "COMMIT"),
      rollback_(db, "ROLLBACK"),
      // The sequence, unless a damaged index holds chunks past it: ids
      // handed out again would repeat stored ones.
      highest_id_(db,
                  "SELECT max(highest_id, (SELECT coalesce(max(last_id), 0) FROM chunks)) "
                  "FROM sequence"),
      front_(db,
             "SELECT room, last_id, position, size, newest_ts FROM chunks "
             "ORDER BY position LIMIT ?1"),
      delete_front_(db, "DELETE FROM chunks WHERE position <= ?1") {
  try {
    lost_at_open_ = reconcile();
  } catch (const std::system_error& e) {
    throw store_error("cannot check history file " + quoted(chunks_.path()) + ": " + e.what());
  }
}

void message_writer::begin() {
  reset_on_exit reset(begin_);
  begin_.step();
}

void message_writer::commit() {
  reset_on_exit reset(commit_);
  commit_.step();
}

void message_writer::rollback() noexcept {
  // SQLite may already have rolled back (after a full disk, for one).
  if (sqlite3_get_autocommit(db_.get()) != 0) return;
  reset_on_exit reset(rollback_);
  try {
    rollback_.step();
  } catch (const sqlite_error&) {
    // The first failure is the one worth reporting.
  }
}

void message_writer::keep_floor(std::string_view room, std::uint64_t id) {
  raise_floor(pending_floors_, room, id);
}

void message_writer::store_floors(const room_floors& floors) {
  for (const auto& [room, id] : floors) {
    reset_on_exit reset(raise_floor_);
    raise_floor_.bind(1, room);
    raise_floor_.bind(2, to_int64(id));
    raise_floor_.step();
  }
}

template <typename Statements>
void message_writer::in_transaction(Statements&& statements) {
  begin();
  try {
    statements();
    store_floors(pending_floors_);
    commit();
  } catch (...) {
    rollback();
    throw;
  }
  pending_floors_.clear();
}

std::uint64_t message_writer::reconcile() {
  const std::uint64_t file_size = chunks_.size();
  // Without a sync between the chunk file and the index, a power cut may
  // keep a row and lose its bytes: such rows go (the sequence keeps their
  // ids, the floors say the rooms lost them). Negative places come only from
  // a damaged index; they would poison end_.
  constexpr const char* lost_rows = " WHERE position + size > ?1 OR position < 0 OR size < 0";
  std::uint64_t lost = 0;
  in_transaction([&] {
    statement lost_floors(
        db_, std::string("SELECT room, max(last_id) FROM chunks") + lost_rows + " GROUP BY room");
    {
      reset_on_exit reset(lost_floors);
      lost_floors.bind(1, to_int64(file_size));
      while (lost_floors.step()) {
        keep_floor(lost_floors.column_text(0), static_cast<std::uint64_t>(std::max<std::int64_t>(
                                                   lost_floors.column_int(1), 0)));
      }
    }
    statement forget(db_, std::string("DELETE FROM chunks") + lost_rows);
    {
      reset_on_exit reset(forget);
      forget.bind(1, to_int64(file_size));
      forget.step();
    }
    lost = static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
  });
  statement indexed(db_,
                    "SELECT coalesce(max(position + size), 0), coalesce(sum(size), 0) "
                    "FROM chunks");
  {
    reset_on_exit reset(indexed);
    indexed.step();
    end_ = static_cast<std::uint64_t>(indexed.column_int(0));
    indexed_bytes_ = static_cast<std::uint64_t>(indexed.column_int(1));
  }
  // Bytes of a batch whose rows were never committed.
  if (file_size > end_) chunks_.truncate(end_);
  return lost;
}

std::size_t message_writer::write(const packed_messages& batch, bool durable) {
  // A room's messages reach the queue in id order (history_database::append),
  // so each room's chunk is in id order too.
  std::map<std::string_view, room_share> shares;
  // A room's messages tend to come in runs: the last share found is tried first.
  std::string_view last_room;
  room_share* last_share = nullptr;
  const auto share_of = [&](std::string_view room) -> room_share& {
    if (last_share == nullptr || room != last_room) {
      last_share = &shares[room];
      last_room = room;
    }
    return *last_share;
  };

  std::uint64_t highest = 0;
  batch.for_each([&](const routed_record& m) {
    highest = std::max(highest, m.id);
    if (m.room.empty()) return;  // only the id is kept
    room_share& share = share_of(m.room);
    if (share.count++ == 0) {
      share.first_id = m.id;
      share.newest_ts = m.ts_ms;
    }
    share.last_id = m.id;
    share.newest_ts = std::max(share.newest_ts, m.ts_ms);
    share.size += m.record.size();
  });
  std::size_t total = 0;
  for (auto& [room, share] : shares) {
    share.at = total;
    total += share.size;
  }
  out_.resize(total);
  batch.for_each([&](const routed_record& m) {
    if (m.room.empty()) return;
    room_share& share = share_of(m.room);
    m.record.copy(out_.data() + share.at + share.filled, m.record.size());
    share.filled += m.record.size();
  });
  chunks_.write_at(end_, out_);
  if (durable) {
    // Before the rows that name these bytes can be committed.
    if (total != 0) chunks_.sync();
  } else {
    chunks_.start_writeback(end_, out_.size());
  }
  if (out_.capacity() > max_kept_buffer) out_ = std::string();

  std::size_t skipped = 0;
  in_transaction([&] {
    for (const auto& [room, share] : shares) {
      reset_on_exit reset(insert_);
      insert_.bind(1, room);
      insert_.bind(2, to_int64(share.first_id));
      insert_.bind(3, to_int64(share.last_id));
      insert_.bind(4, to_int64(end_ + share.at));
      insert_.bind(5, to_int64(share.size));
      insert_.bind(6, share.newest_ts);
      insert_.step();
      if (sqlite3_changes(db_.get()) == 0) skipped += share.count;
    }
    {
      reset_on_exit reset(raise_sequence_);
      raise_sequence_.bind(1, to_int64(highest));
      raise_sequence_.step();
    }
  });
  end_ += total;
  indexed_bytes_ += total;
  return skipped;
}

std::optional<std::int64_t> message_writer::read_newest_ts(std::uint64_t position,
                                                           std::uint64_t size) const {
  try {
    return newest_ts_in_chunk(chunks_.read_at(position, size));
  } catch (const std::system_error&) {
    throw;  // a failing disk: the pass fails, and is tried again later
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

retention_pass message_writer::drop_front(
    std::uint64_t max_bytes, std::optional<std::int64_t> oldest_ts_ms, std::size_t max_chunks,
    const std::function<void(const room_floors&)>& before_commit) {
  retention_pass pass;
  std::size_t seen = 0;
  std::optional<std::uint64_t> last_position;
  {
    reset_on_exit reset(front_);
    front_.bind(1, to_int64(max_chunks));
    while (front_.step()) {
      ++seen;
      const auto position = static_cast<std::uint64_t>(front_.column_int(2));
      const auto size = static_cast<std::uint64_t>(front_.column_int(3));
      bool drop = max_bytes != 0 && indexed_bytes_ - pass.bytes > max_bytes;
      if (!drop && oldest_ts_ms) {
        const std::optional<std::int64_t> newest =
            front_.column_is_null(4) ? read_newest_ts(position, size)
                                     : std::optional<std::int64_t>(front_.column_int(4));
        // A chunk whose age cannot be read cannot be served either.
        drop = !newest || *newest < *oldest_ts_ms;
      }
      if (!drop) break;
      raise_floor(pass.floors, front_.column_text(0),
                  static_cast<std::uint64_t>(std::max<std::int64_t>(front_.column_int(1), 0)));
      ++pass.chunks;
      pass.bytes += size;
      last_position = position;
      pass.dead_below = position + size;
    }
  }
  if (!last_position) return retention_pass{};
  pass.more = pass.chunks == max_chunks && seen == max_chunks;

  before_commit(pass.floors);
  in_transaction([&] {
    {
      reset_on_exit reset(delete_front_);
      delete_front_.bind(1, to_int64(*last_position));
      delete_front_.step();
    }
    store_floors(pass.floors);
  });
  indexed_bytes_ -= std::min(indexed_bytes_, pass.bytes);
  return pass;
}

std::optional<std::int64_t> message_writer::front_newest_ts() {
  reset_on_exit reset(front_);
  front_.bind(1, 1);
  if (!front_.step()) return std::nullopt;
  if (!front_.column_is_null(4)) return front_.column_int(4);
  // Unknown or unreadable: due at once, the pass decides.
  return read_newest_ts(static_cast<std::uint64_t>(front_.column_int(2)),
                        static_cast<std::uint64_t>(front_.column_int(3)))
      .value_or(std::numeric_limits<std::int64_t>::min());
}

std::uint64_t message_writer::highest_id() {
  reset_on_exit reset(highest_id_);
  if (!highest_id_.step()) return 0;
  return static_cast<std::uint64_t>(std::max<std::int64_t>(highest_id_.column_int(0), 0));
}

room_floors message_writer::floors() {
  room_floors all = pending_floors_;
  statement select(db_, "SELECT room, lost_through FROM floors");
  reset_on_exit reset(select);
  while (select.step()) {
    raise_floor(all, select.column_text(0),
                static_cast<std::uint64_t>(std::max<std::int64_t>(select.column_int(1), 0)));
  }
  return all;
}

message_reader::message_reader(connection& db, const chunk_file& chunks, damage_handler on_damage)
    : chunks_(chunks),
      on_damage_(std::move(on_damage)),
      select_(db,
              "SELECT first_id, last_id, position, size FROM chunks "
              "WHERE room = ?1 AND first_id < ?2 ORDER BY first_id DESC"),
      // The chunk that holds `after`, if any, and every later one up to `through`.
      select_after_(db,
                    "SELECT first_id, last_id, position, size FROM chunks "
                    "WHERE room = ?1 AND first_id <= ?3 AND first_id >= coalesce("
                    "(SELECT max(first_id) FROM chunks WHERE room = ?1 AND first_id <= ?2), 0) "
                    "ORDER BY first_id") {}

std::vector<stored_message> message_reader::read_chunk(std::string_view room,
                                                       std::uint64_t first_id,
                                                       std::uint64_t last_id,
                                                       std::uint64_t position,
                                                       std::uint64_t size) const {
  auto messages = unpack_chunk(chunks_.read_at(position, size), room);
  // Bytes that parse but are not the chunk the row describes (zeros left by
  // a crash, a file restored from elsewhere) must not pass for history.
  const auto out_of_order = [](const stored_message& a, const stored_message& b) {
    return a.id >= b.id;
  };
  if (messages.empty() || messages.front().id != first_id || messages.back().id != last_id ||
      std::adjacent_find(messages.begin(), messages.end(), out_of_order) != messages.end()) {
    throw std::runtime_error("a history chunk does not hold the messages its index names");
  }
  return messages;
}

std::vector<stored_message> message_reader::read_row(std::string_view room, statement& rows) const {
  const auto first_id = static_cast<std::uint64_t>(rows.column_int(0));
  const auto last_id = static_cast<std::uint64_t>(rows.column_int(1));
  const auto position = static_cast<std::uint64_t>(rows.column_int(2));
  try {
    return read_chunk(room, first_id, last_id, position,
                      static_cast<std::uint64_t>(rows.column_int(3)));
  } catch (const std::system_error&) {
    throw;  // a failing disk, not a damaged chunk: the whole read fails
  } catch (const std::runtime_error& e) {
    // Retention dropped it after this read's snapshot was taken, and is
    // freeing its bytes: gone, not damaged.
    if (position < chunks_.dead_below()) return {};
    on_damage_("messages " + std::to_string(first_id) + " to " + std::to_string(last_id) +
               " of room '" + std::string(room) + "' are skipped: " + e.what());
    return {};
  }
}

std::vector<stored_message> message_reader::newest(std::string_view room, std::uint64_t before,
                                                   std::size_t limit) {
  reset_on_exit reset(select_);
  select_.bind(1, room);
  select_.bind(2, before == 0 ? to_int64(int64_max) : to_int64(before));
  std::vector<stored_message> found;
  // Chunks of a room do not overlap: walking them newest first, the first
  // `limit` messages below `before` are the ones wanted.
  while (found.size() < limit && select_.step()) {
    std::vector<stored_message> messages = read_row(room, select_);
    for (auto m = messages.rbegin(); m != messages.rend() && found.size() < limit; ++m) {
      if (before == 0 || m->id < before) found.push_back(std::move(*m));
    }
  }
  return found;
}

std::vector<stored_message> message_reader::oldest_after(std::string_view room, std::uint64_t after,
                                                         std::uint64_t through, std::size_t limit) {
  reset_on_exit reset(select_after_);
  select_after_.bind(1, room);
  select_after_.bind(2, to_int64(after));
  select_after_.bind(3, to_int64(through));
  std::vector<stored_message> found;
  while (found.size() < limit && select_after_.step()) {
    for (stored_message& m : read_row(room, select_after_)) {
      if (found.size() == limit) break;
      if (m.id > after && m.id <= through) found.push_back(std::move(m));
    }
  }
  return found;
}

}  // namespace chat::store::detail
