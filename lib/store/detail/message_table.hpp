#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/detail/append_queue.hpp"
#include "store/detail/chunk_file.hpp"
#include "sqlite/sqlite.hpp"
#include "store/stored_message.hpp"

// The SQL that touches the history tables (schema.cpp), each statement
// prepared once, and the chunk file their rows point into.
namespace chat::store::detail {

// Per room, the highest id whose message may be missing from the store
// (a failed write, retention, a chunk lost to a crash). Floors only rise.
using room_floors = std::map<std::string, std::uint64_t, std::less<>>;

// Raises `floors[room]` to `id` unless it is higher already.
void raise_floor(room_floors& floors, std::string_view room, std::uint64_t id);

// What one retention pass did.
struct retention_pass {
  std::uint64_t chunks = 0;
  std::uint64_t bytes = 0;
  // Every byte of the chunk file below this is no longer indexed (0: none
  // dropped).
  std::uint64_t dead_below = 0;
  // The floors the pass raised, already stored.
  room_floors floors;
  // The pass stopped at its chunk limit with more to drop.
  bool more = false;
};

class message_writer {
public:
  // Prepares against a connection from open_for_writing(); both it and
  // `chunks` must outlive this. Then makes the chunk file and the index
  // agree, as a crash may have left them: index rows whose bytes never
  // reached the file are deleted (lost_at_open() counts them, and their
  // rooms' floors rise), and bytes past the last indexed chunk are cut off.
  // Throws store_error when the chunk file cannot be read or cut.
  message_writer(sqlite::connection& db, chunk_file& chunks);

  // Stores the batch: each room's share as one chunk, all of them in one
  // write to the chunk file, then their rows, the highest id and any floors
  // still to be stored in one transaction; messages without a room count for
  // the id only. With `durable`, the chunk file is synced before the index
  // commits (whose connection then syncs its commits: open_for_writing), so
  // no row ever names bytes a power cut took. Returns how many messages were
  // skipped because their chunk was already stored. On failure throws
  // (sqlite_error, std::system_error): the batch is then not stored at all,
  // and the next one is written over its bytes.
  std::size_t write(const packed_messages& batch, bool durable);

  // Keeps a floor to store with the next transaction that succeeds.
  void keep_floor(std::string_view room, std::uint64_t id);

  // Drops whole chunks from the front of the chunk file (lowest position
  // first) while the indexed bytes exceed `max_bytes` (0: no bound) or the
  // front chunk's newest message is older than `oldest_ts_ms` (nullopt: no
  // bound), at most `max_chunks` of them: their rows go and their rooms'
  // floors rise in one transaction. `before_commit` is given those floors
  // first, so that readers can be told of the gap before it opens. Freeing
  // the bytes is the caller's (chunk_file::punch_hole). Throws like write().
  retention_pass drop_front(std::uint64_t max_bytes, std::optional<std::int64_t> oldest_ts_ms,
                            std::size_t max_chunks,
                            const std::function<void(const room_floors&)>& before_commit);

  // The ts of the front chunk's newest message, nullopt when there is no
  // chunk. Throws sqlite_error.
  std::optional<std::int64_t> front_newest_ts();

  // The bytes the index names, summed.
  std::uint64_t indexed_bytes() const noexcept { return indexed_bytes_; }

  // The highest id ever stored, 0 when none.
  std::uint64_t highest_id();

  // Every floor stored, and those still waiting for a transaction.
  room_floors floors();

  // Chunks the index named whose bytes were gone at open.
  std::uint64_t lost_at_open() const noexcept { return lost_at_open_; }

private:
  // Returns how many chunks were lost.
  std::uint64_t reconcile();
  // Inside a transaction: raises the stored floors to `floors`.
  void store_floors(const room_floors& floors);
  // Runs `statements`, then stores pending_floors_, in one transaction that
  // is rolled back if anything throws; once it commits they are no longer
  // pending.
  template <typename Statements>
  void in_transaction(Statements&& statements);
  void begin();
  void commit();
  // After a failure inside a transaction; keeps the first failure's report.
  void rollback() noexcept;
  // The newest ts of a chunk whose row does not say (an index of schema 3);
  // nullopt when its bytes cannot be read.
  std::optional<std::int64_t> read_newest_ts(std::uint64_t position, std::uint64_t size) const;

  sqlite::connection& db_;
  chunk_file& chunks_;
  sqlite::statement begin_;
  sqlite::statement insert_;
  sqlite::statement raise_sequence_;
  sqlite::statement raise_floor_;
  sqlite::statement commit_;
  sqlite::statement rollback_;
  sqlite::statement highest_id_;
  sqlite::statement front_;
  sqlite::statement delete_front_;
  // Where the next chunk goes: the end of the last one indexed.
  std::uint64_t end_ = 0;
  std::uint64_t indexed_bytes_ = 0;
  std::uint64_t lost_at_open_ = 0;
  // Floors raised since the last successful transaction: a failed write
  // cannot store its own.
  room_floors pending_floors_;
  // The batch's chunks side by side, reused from batch to batch.
  std::string out_;
};

class message_reader {
public:
  // Receives one line per damaged chunk met.
  using damage_handler = std::function<void(std::string_view)>;

  // Prepares against a connection from open_for_reading(); both it and
  // `chunks` must outlive this.
  message_reader(sqlite::connection& db, const chunk_file& chunks, damage_handler on_damage);

  // The `limit` messages of `room` with the highest ids below `before`
  // (0: no bound), newest first. A chunk that is cut short, missing or not
  // what its row names is reported and skipped: after a crash, one lost
  // chunk must not hide the room's older history. Throws sqlite_error or
  // std::system_error.
  std::vector<stored_message> newest(std::string_view room, std::uint64_t before,
                                     std::size_t limit);

  // The `limit` messages of `room` with the lowest ids in (after, through],
  // oldest first; damage is handled as by newest().
  std::vector<stored_message> oldest_after(std::string_view room, std::uint64_t after,
                                           std::uint64_t through, std::size_t limit);

private:
  // The messages of the chunk the current row of `rows` names (first_id,
  // last_id, position, size); empty, after reporting, when it is damaged.
  std::vector<stored_message> read_row(std::string_view room, sqlite::statement& rows) const;
  // The messages of one indexed chunk; throws std::runtime_error when its
  // bytes are not what the row names.
  std::vector<stored_message> read_chunk(std::string_view room, std::uint64_t first_id,
                                         std::uint64_t last_id, std::uint64_t position,
                                         std::uint64_t size) const;

  const chunk_file& chunks_;
  damage_handler on_damage_;
  sqlite::statement select_;
  sqlite::statement select_after_;
};

}  // namespace chat::store::detail
