#pragma once

#include <cstdint>
#include <string>

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

}  // namespace chat::store
