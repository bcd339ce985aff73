#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "store/detail/sqlite.hpp"
#include "store/stored_message.hpp"

// The SQL that touches the messages table, each statement prepared once.
namespace chat::store::detail {

class message_writer {
public:
  // Prepares against a connection from open_for_writing(), which must outlive this.
  explicit message_writer(connection& db);

  // Inserts the batch in one transaction. Returns how many messages were
  // skipped because their id was already stored. On failure rolls back and
  // throws sqlite_error: the batch is then not stored at all.
  std::size_t write(const std::deque<stored_message>& batch);

  // The highest id in the table, 0 when it is empty.
  std::uint64_t highest_id();

private:
  connection& db_;
  statement begin_;
  statement insert_;
  statement commit_;
  statement rollback_;
  statement highest_id_;
};

class message_reader {
public:
  // Prepares against a connection from open_for_reading(), which must outlive this.
  explicit message_reader(connection& db);

  // The `limit` messages of `room` with the highest ids below `before`
  // (0: no bound), newest first. Throws sqlite_error.
  std::vector<stored_message> newest(std::string_view room, std::uint64_t before,
                                     std::size_t limit);

private:
  statement select_;
};

}  // namespace chat::store::detail
