#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/stored_message.hpp"

// How messages are packed, on disk and on their way there.
//
// On disk a room's messages are packed into chunks: one per room per written
// batch, in the chunk file (chunk_file.hpp), with a row in the SQLite index.
// A row per message cost SQLite two B-tree inserts each, more instructions
// than delivering the message to twenty people; a row per chunk spreads that
// over the batch. Each message is a record: little-endian id
// (8 bytes), ts (8), sender length (4), text length (4), then the sender and
// the text. The room is the row's key and is not repeated.
//
// On the way there (append_queue) each record is routed: preceded by its
// room's length (4) and the room, so that appending is one copy into a
// buffer, and the writer files each record under its room with another.
namespace chat::store::detail {

void append_to_chunk(std::string& chunk, const stored_message_view& message);

// The messages of `chunk` in packing order, each with its room set to
// `room`. Throws std::runtime_error if the chunk is cut short or malformed.
std::vector<stored_message> unpack_chunk(std::string_view chunk, std::string_view room);

// The highest ts in `chunk`, for retention by age, without copying a message.
// Throws std::runtime_error as unpack_chunk() does; nullopt for an empty chunk.
std::optional<std::int64_t> newest_ts_in_chunk(std::string_view chunk);

void append_routed(std::string& out, const stored_message_view& message);

// One routed record of a buffer that append_routed() filled: trusted input,
// not checked.
struct routed_record {
  std::string_view room;
  // The record as it goes into the room's chunk.
  std::string_view record;
  std::uint64_t id;
  std::int64_t ts_ms;
  // Where the next routed record begins.
  std::size_t end;
};
routed_record read_routed(std::string_view buffer, std::size_t at);

// The message a routed record holds.
stored_message unpack_routed(const routed_record& routed);

}  // namespace chat::store::detail
