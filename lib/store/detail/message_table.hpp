#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/detail/append_queue.hpp"
#include "store/detail/chunk_file.hpp"
#include "store/detail/sqlite.hpp"
#include "store/stored_message.hpp"

// The SQL that touches the history tables (schema.cpp), each statement
// prepared once, and the chunk file their rows point into.
namespace chat::store::detail {

class message_writer {
public:
  // Prepares against a connection from open_for_writing(); both it and
  // `chunks` must outlive this. Then makes the chunk file and the index
  // agree, as a crash may have left them: index rows whose bytes never
  // reached the file are deleted (lost_at_open() counts them), and bytes
  // past the last indexed chunk are cut off. Throws store_error when the
  // chunk file cannot be read or cut.
  message_writer(connection& db, chunk_file& chunks);

  // Stores the batch: each room's share as one chunk, all of them in one
  // write to the chunk file, then their rows and the highest id in one
  // transaction; messages without a room count for the id only. Returns how
  // many messages were skipped because their chunk was already stored. On
  // failure throws (sqlite_error, std::system_error): the batch is then not
  // stored at all, and the next one is written over its bytes.
  std::size_t write(const packed_messages& batch);

  // The highest id ever stored, 0 when none.
  std::uint64_t highest_id();

  // Chunks the index named whose bytes were gone at open.
  std::uint64_t lost_at_open() const noexcept { return lost_at_open_; }

private:
  // Returns how many chunks were lost.
  std::uint64_t reconcile();

  connection& db_;
  chunk_file& chunks_;
  statement begin_;
  statement insert_;
  statement raise_sequence_;
  statement commit_;
  statement rollback_;
  statement highest_id_;
  // Where the next chunk goes: the end of the last one indexed.
  std::uint64_t end_ = 0;
  std::uint64_t lost_at_open_ = 0;
  // The batch's chunks side by side, reused from batch to batch.
  std::string out_;
};

class message_reader {
public:
  // Receives one line per damaged chunk met.
  using damage_handler = std::function<void(std::string_view)>;

  // Prepares against a connection from open_for_reading(); both it and
  // `chunks` must outlive this.
  message_reader(connection& db, const chunk_file& chunks, damage_handler on_damage);

  // The `limit` messages of `room` with the highest ids below `before`
  // (0: no bound), newest first. A chunk that is cut short, missing or not
  // what its row names is reported and skipped: after a crash, one lost
  // chunk must not hide the room's older history. Throws sqlite_error or
  // std::system_error.
  std::vector<stored_message> newest(std::string_view room, std::uint64_t before,
                                     std::size_t limit);

private:
  // The messages of one indexed chunk; throws std::runtime_error when its
  // bytes are not what the row names.
  std::vector<stored_message> read_chunk(std::string_view room, std::uint64_t first_id,
                                         std::uint64_t last_id, std::uint64_t position,
                                         std::uint64_t size) const;

  const chunk_file& chunks_;
  damage_handler on_damage_;
  statement select_;
};

}  // namespace chat::store::detail
