#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "store/detail/append_queue.hpp"
#include "store/detail/sqlite.hpp"
#include "store/stored_message.hpp"

// The SQL that touches the history tables (schema.cpp), each statement
// prepared once.
namespace chat::store::detail {

class message_writer {
public:
  // Prepares against a connection from open_for_writing(), which must outlive this.
  explicit message_writer(connection& db);

  // Stores the batch in one transaction, one chunk per room, and raises the
  // stored highest id; messages without a room count for the id only.
  // Returns how many messages were skipped because their chunk was already
  // stored. On failure rolls back and throws sqlite_error: the batch is then
  // not stored at all.
  std::size_t write(const packed_messages& batch);

  // The highest id ever stored, 0 when none.
  std::uint64_t highest_id();

private:
  connection& db_;
  statement begin_;
  statement insert_;
  statement raise_sequence_;
  statement commit_;
  statement rollback_;
  statement highest_id_;
};

class message_reader {
public:
  // Prepares against a connection from open_for_reading(), which must outlive this.
  explicit message_reader(connection& db);

  // The `limit` messages of `room` with the highest ids below `before`
  // (0: no bound), newest first. Throws sqlite_error, or std::runtime_error
  // for a malformed chunk.
  std::vector<stored_message> newest(std::string_view room, std::uint64_t before,
                                     std::size_t limit);

private:
  statement select_;
};

}  // namespace chat::store::detail
