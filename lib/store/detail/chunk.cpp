#include "store/detail/chunk.hpp"

#include <stdexcept>

namespace chat::store::detail {

namespace {

constexpr std::size_t record_header_size = 8 + 8 + 4 + 4;
constexpr std::size_t route_header_size = 4;

// Fixed little-endian, so that a file moved between machines reads the same.
void put_le(char* out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= std::uint64_t{static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)])}
             << (8 * i);
  }
  return value;
}

// The record starting at `at` of `bytes`, which holds at least its header.
struct record_fields {
  std::uint64_t id;
  std::int64_t ts_ms;
  std::size_t from_size;
  std::size_t text_size;
};

record_fields read_header(std::string_view bytes, std::size_t at) {
  return {get_le(bytes, at, 8), static_cast<std::int64_t>(get_le(bytes, at + 8, 8)),
          static_cast<std::size_t>(get_le(bytes, at + 16, 4)),
          static_cast<std::size_t>(get_le(bytes, at + 20, 4))};
}

stored_message to_message(std::string_view bytes, std::size_t body, const record_fields& f,
                          std::string_view room) {
  return stored_message{.id = f.id,
                        .ts_ms = f.ts_ms,
                        .room = std::string(room),
                        .from = std::string(bytes.substr(body, f.from_size)),
                        .text = std::string(bytes.substr(body + f.from_size, f.text_size))};
}

}  // namespace

void append_to_chunk(std::string& chunk, const stored_message_view& message) {
  char header[record_header_size];
  put_le(header, message.id, 8);
  put_le(header + 8, static_cast<std::uint64_t>(message.ts_ms), 8);
  put_le(header + 16, message.from.size(), 4);
  put_le(header + 20, message.text.size(), 4);
  chunk.append(header, sizeof header).append(message.from).append(message.text);
}

std::vector<stored_message> unpack_chunk(std::string_view chunk, std::string_view room) {
  std::vector<stored_message> messages;
  std::size_t at = 0;
  while (at < chunk.size()) {
    if (chunk.size() - at < record_header_size) {
      throw std::runtime_error("a history chunk is cut short");
    }
    const record_fields fields = read_header(chunk, at);
    at += record_header_size;
    if (chunk.size() - at < fields.from_size + fields.text_size) {
      throw std::runtime_error("a history chunk is cut short");
    }
    messages.push_back(to_message(chunk, at, fields, room));
    at += fields.from_size + fields.text_size;
  }
  return messages;
}

void append_routed(std::string& out, const stored_message_view& message) {
  char header[route_header_size];
  put_le(header, message.room.size(), 4);
  out.append(header, sizeof header).append(message.room);
  append_to_chunk(out, message);
}

routed_record read_routed(std::string_view buffer, std::size_t at) {
  const auto room_size = static_cast<std::size_t>(get_le(buffer, at, 4));
  const std::size_t record_at = at + route_header_size + room_size;
  const record_fields fields = read_header(buffer, record_at);
  const std::size_t end = record_at + record_header_size + fields.from_size + fields.text_size;
  return {buffer.substr(at + route_header_size, room_size),
          buffer.substr(record_at, end - record_at), fields.id, end};
}

stored_message unpack_routed(const routed_record& routed) {
  return to_message(routed.record, record_header_size, read_header(routed.record, 0),
                    routed.room);
}

}  // namespace chat::store::detail
