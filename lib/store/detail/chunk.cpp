#include "store/detail/chunk.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace chat::store::detail {

namespace {

constexpr std::size_t record_header_size = 8 + 8 + 4 + 4;
constexpr std::size_t route_header_size = 4;

// Fixed little-endian, so that a file moved between machines reads the same.
// Appending is on the delivering thread's path: on a little-endian machine
// this is one store.
void put_le(char* out, std::uint64_t value, int bytes) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, &value, static_cast<std::size_t>(bytes));
  } else {
    for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  }
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&value, in.data() + at, static_cast<std::size_t>(bytes));
    return value;
  }
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

// Calls visit(fields, body) for each record of `chunk` in order, `body` being
// where its from and text begin. Throws at the first record that is cut short.
template <typename Visit>
void for_each_record(std::string_view chunk, Visit&& visit) {
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
    visit(fields, at);
    at += fields.from_size + fields.text_size;
  }
}

}  // namespace

namespace {

// Writes the record at `out`, which has room for record_size(message).
void write_record(char* out, const stored_message_view& message) {
  put_le(out, message.id, 8);
  put_le(out + 8, static_cast<std::uint64_t>(message.ts_ms), 8);
  put_le(out + 16, message.from.size(), 4);
  put_le(out + 20, message.text.size(), 4);
  out += record_header_size;
  if (!message.from.empty()) std::memcpy(out, message.from.data(), message.from.size());
  out += message.from.size();
  if (!message.text.empty()) std::memcpy(out, message.text.data(), message.text.size());
}

std::size_t record_size(const stored_message_view& message) {
  return record_header_size + message.from.size() + message.text.size();
}

// Grows `out` by `size` bytes and returns where they begin. The growth is
// amortised as for append.
char* extend(std::string& out, std::size_t size) {
  const std::size_t at = out.size();
  if (out.capacity() < at + size) out.reserve(std::max(at + size, 2 * out.capacity()));
  out.resize(at + size);
  return out.data() + at;
}

}  // namespace

void append_to_chunk(std::string& chunk, const stored_message_view& message) {
  write_record(extend(chunk, record_size(message)), message);
}

std::vector<stored_message> unpack_chunk(std::string_view chunk, std::string_view room) {
  std::vector<stored_message> messages;
  for_each_record(chunk, [&](const record_fields& fields, std::size_t body) {
    messages.push_back(to_message(chunk, body, fields, room));
  });
  return messages;
}

std::optional<std::int64_t> newest_ts_in_chunk(std::string_view chunk) {
  std::optional<std::int64_t> newest;
  for_each_record(chunk, [&](const record_fields& fields, std::size_t) {
    newest = std::max(newest.value_or(fields.ts_ms), fields.ts_ms);
  });
  return newest;
}

void append_routed(std::string& out, const stored_message_view& message) {
  char* at = extend(out, route_header_size + message.room.size() + record_size(message));
  put_le(at, message.room.size(), 4);
  at += route_header_size;
  if (!message.room.empty()) std::memcpy(at, message.room.data(), message.room.size());
  write_record(at + message.room.size(), message);
}

routed_record read_routed(std::string_view buffer, std::size_t at) {
  const auto room_size = static_cast<std::size_t>(get_le(buffer, at, 4));
  const std::size_t record_at = at + route_header_size + room_size;
  const record_fields fields = read_header(buffer, record_at);
  const std::size_t end = record_at + record_header_size + fields.from_size + fields.text_size;
  return {buffer.substr(at + route_header_size, room_size),
          buffer.substr(record_at, end - record_at), fields.id, fields.ts_ms, end};
}

stored_message unpack_routed(const routed_record& routed) {
  return to_message(routed.record, record_header_size, read_header(routed.record, 0), routed.room);
}

}  // namespace chat::store::detail
