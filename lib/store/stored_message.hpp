#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chat::store {

// One room message as it was delivered: the same id and timestamp the
// recipients saw, so history replayed later matches what went out live.
struct stored_message {
  // Server-wide and increasing; must stay below 2^63 (SQLite integers are signed).
  std::uint64_t id = 0;
  // Milliseconds since the Unix epoch.
  std::int64_t ts_ms = 0;
  std::string room;
  std::string from;
  std::string text;

  friend bool operator==(const stored_message&, const stored_message&) = default;
};

// The same, borrowed: appending copies from it without building strings first.
struct stored_message_view {
  std::uint64_t id = 0;
  std::int64_t ts_ms = 0;
  std::string_view room;
  std::string_view from;
  std::string_view text;

  stored_message_view(std::uint64_t id_, std::int64_t ts_ms_, std::string_view room_,
                      std::string_view from_, std::string_view text_)
      : id(id_), ts_ms(ts_ms_), room(room_), from(from_), text(text_) {}
  // Implicit: a stored message can be appended as it is.
  stored_message_view(const stored_message& m)
      : id(m.id), ts_ms(m.ts_ms), room(m.room), from(m.from), text(m.text) {}
};

}  // namespace chat::store
