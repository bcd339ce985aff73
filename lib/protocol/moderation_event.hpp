#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/event.hpp"

namespace chat::protocol {

// What an operator did (PROTOCOL.md 3.9), as the room, the operator and
// the one it concerns are told.
struct moderation_event {
  // kicked, banned, unbanned, muted, unmuted, op, deop, invited, mode.
  std::string_view type;
  // Empty: the whole server (kill, gban, gunban).
  std::string_view room;
  // Whom it concerns: a name, or for bans an address range.
  std::string_view target;
  std::string_view by;
  std::string_view reason;
  // banned, muted: when it ends (ms since the epoch), and how long it is
  // for the plain line; absent: until lifted.
  std::optional<std::int64_t> until_ms;
  std::uint64_t duration_s = 0;
  // mode: the room is now private.
  bool private_room = false;
};
std::string encode_moderation(session_mode mode, const moderation_event& event);

struct ban_entry {
  std::string target;
  std::string by;
  std::string reason;
  std::optional<std::int64_t> until_ms;
  bool global = false;
};
// The answer to `bans`: the room's bans, then server-wide ones (to server
// operators). `now_ms` turns ends into time left, for plain lines.
std::string encode_bans(session_mode mode, std::string_view room, std::span<const ban_entry> bans,
                        std::int64_t now_ms);

}  // namespace chat::protocol
