#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/error_code.hpp"

namespace chat::protocol {

// What a client asks for, whichever session mode it arrived in. An empty
// `room` means the session's current room.
namespace request {
struct message {
  std::string text;
  // The client's `ref`, kept as JSON text so the ack can echo it without
  // parsing it again; empty when the client sent none.
  std::string ref_json;
  std::string room;
};
struct direct {
  std::string to;
  std::string text;
  std::string ref_json;
};
struct join {
  std::string room;
};
struct leave {
  std::string room;
};
struct who {
  std::string room;
};
struct topic {
  std::string room;
  // Absent: show the topic; present (even empty): set it.
  std::optional<std::string> text;
};
struct nick {
  std::string user;
};
struct history {
  std::string room;
  std::uint64_t before = 0;  // 0: from the newest
  std::size_t limit = 50;
};
// Replays what the session missed in a room: every message with an id above
// `after`, paged (more than a page ends with a `more` marker); joins the room
// first when the session is not in it.
struct resume {
  std::string room;
  std::uint64_t after = 0;
};
// Accounts: the session's own name, registered with `password`; its
// password changed; its account deleted (the session stays, as a guest).
struct register_account {
  std::string password;
};
struct change_password {
  std::string old_password;
  std::string new_password;
};
struct unregister_account {
  std::string password;
};
// Moderation (PROTOCOL.md 3.9). `room` empty: the current room. A ban's
// `target` is a name or an address range (protocol::address_range's text);
// `duration_s` absent: until lifted. `global`: server-wide (gban, gunban).
struct kick {
  std::string room;
  std::string user;
  std::string reason;
};
struct ban {
  std::string room;
  std::string target;
  std::optional<std::uint64_t> duration_s;
  std::string reason;
  bool global = false;
};
struct unban {
  std::string room;
  std::string target;
  bool global = false;
};
struct mute {
  std::string room;
  std::string user;
  std::optional<std::uint64_t> duration_s;
  std::string reason;
};
struct unmute {
  std::string room;
  std::string user;
};
struct bans {
  std::string room;
};
// op and deop.
struct op {
  std::string room;
  std::string user;
  bool grant = true;
};
struct invite {
  std::string room;
  std::string user;
};
struct mode {
  std::string room;
  bool private_room = false;
};
// Ends a session at once (server operators).
struct kill {
  std::string user;
  std::string reason;
};
struct rooms {};
struct ping {};
struct pong {};
struct quit {};
struct help {};
}  // namespace request

using any_request =
    std::variant<request::message, request::direct, request::join, request::leave, request::who,
                 request::topic, request::nick, request::history, request::resume,
                 request::register_account, request::change_password, request::unregister_account,
                 request::kick, request::ban, request::unban, request::mute, request::unmute,
                 request::bans, request::op, request::invite, request::mode, request::kill,
                 request::rooms, request::ping, request::pong, request::quit, request::help>;

// Most history one request may ask for, and most messages one resume replays
// before its `more` marker.
inline constexpr std::size_t max_history_page = 200;
// Rooms one hello may ask to resume: each costs a join and a replay.
inline constexpr std::size_t max_resume_rooms = 64;

// Longest ban or mute: ten years. Longest reason, in bytes.
inline constexpr std::uint64_t max_moderation_seconds = 10ULL * 365 * 86'400;
inline constexpr std::size_t max_reason_bytes = 300;

// A duration as plain commands write it: 30s, 10m, 2h, 7d, or bare seconds;
// 1 second to max_moderation_seconds. nullopt for anything else.
std::optional<std::uint64_t> parse_duration(std::string_view text);

// The first frame of a connection: a plain name or a JSON hello.
struct hello {
  std::string user;
  bool json = false;
  // JSON only: log in to the account of `user`. A plain session gives it on
  // the line after the server's PASS.
  std::optional<std::string> password;
  // JSON only, with a password: create the account first (how a newcomer
  // gets in under --require-account).
  bool create_account = false;
  // Rooms to resume at login (JSON only).
  std::vector<request::resume> resume;
};

struct decode_error {
  error_code code;
  std::string message;
};

template <class T>
using decoded = std::variant<T, decode_error>;

// The frame must already be valid UTF-8 with its LF removed.
decoded<hello> decode_hello(std::string_view frame);
decoded<any_request> decode_json_request(std::string_view frame);
// The same through a full JSON parser alone, which decode_json_request uses
// only for the frames its own reading does not take; for tests that compare
// the two.
decoded<any_request> decode_json_request_with_dom(std::string_view frame);
decoded<any_request> decode_plain_request(std::string_view frame);

}  // namespace chat::protocol
