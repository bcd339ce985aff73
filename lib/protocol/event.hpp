#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/error_code.hpp"

namespace chat::protocol {

// How a session talks, fixed by its first frame.
enum class session_mode { plain, json };

// Server-to-client frames, each ended by LF. Plain forms are for people at a
// terminal; JSON forms are the envelopes of protocol/PROTOCOL.md.
std::string encode_prompt();
// Plain sessions: after USER and a registered name, the next line is its password.
std::string encode_password_prompt();
std::string encode_welcome(session_mode mode, std::string_view user, std::string_view room,
                           std::span<const std::string> users, std::string_view topic = {});
// A large room's welcome says how many are in it rather than who: listing
// thousands of names to every newcomer would make each login cost O(members).
struct member_count {
  std::size_t value;
};
std::string encode_welcome(session_mode mode, std::string_view user, std::string_view room,
                           member_count members, std::string_view topic = {});
std::string encode_join(session_mode mode, std::string_view room, std::string_view user);
std::string encode_leave(session_mode mode, std::string_view room, std::string_view user);

// A message as the room's members see it. Plain lines name the room unless
// it is the default one, so a one-room chat reads as plainly as ever.
struct message_view {
  std::uint64_t id;
  std::int64_t ts_ms;
  std::string_view room;
  std::string_view from;
  std::string_view text;
  bool plain_names_room = false;
  // Sent when joining a room, from before the member was there.
  bool history = false;
};
std::string encode_message(session_mode mode, const message_view& message);
std::string encode_message(session_mode mode, std::uint64_t id, std::int64_t ts_ms,
                           std::string_view room, std::string_view from, std::string_view text);
std::string encode_users(session_mode mode, std::string_view room,
                         std::span<const std::string> users);
std::string encode_error(session_mode mode, error_code code, std::string_view message);
// An error that goes away with time (rate-limited logins): JSON adds
// "retry_after" in seconds, plain says when.
std::string encode_error(session_mode mode, error_code code, std::string_view message,
                         std::uint64_t retry_after_s);
std::string encode_shutdown(session_mode mode);
// What became of the session's account: "registered", "password-changed" or
// "unregistered" (the `type` of the JSON envelope).
std::string encode_account(session_mode mode, std::string_view event, std::string_view user);
std::string encode_help();

// To the member who joined: the room, who is in it and its topic.
std::string encode_joined(session_mode mode, std::string_view room,
                          std::span<const std::string> users, std::string_view topic);
// The same for a large room: how many are in it rather than who.
std::string encode_joined(session_mode mode, std::string_view room, member_count members,
                          std::string_view topic);
// To the member who left.
std::string encode_left(session_mode mode, std::string_view room);
struct room_summary {
  std::string name;
  std::size_t users;
  std::string topic;
};
std::string encode_rooms(session_mode mode, std::span<const room_summary> rooms);
// A topic change (or, with an empty `by`, the answer to asking for it).
std::string encode_topic(session_mode mode, std::string_view room, std::string_view text,
                         std::string_view by);
std::string encode_direct(session_mode mode, std::uint64_t id, std::int64_t ts_ms,
                          std::string_view from, std::string_view to, std::string_view text);
std::string encode_nick(session_mode mode, std::string_view old_name, std::string_view new_name);
// JSON sessions only: a page of older messages, oldest first.
std::string encode_history_page(std::string_view room, std::span<const message_view> messages);
std::string encode_ack(std::string_view ref_json, std::uint64_t id);
// Sent instead of the ack when a message was delivered but could not be
// stored; `ref_json` empty when the message had no ref.
std::string encode_not_stored(session_mode mode, std::string_view ref_json);
// The last frame to a slow consumer: `last_id` is that of the last message
// written to it (0: none), so that it can resume from there.
std::string encode_slow_consumer(session_mode mode, std::uint64_t last_id);
// In a replay (resume): messages of `room` with from < id <= to may be missing.
std::string encode_gap(session_mode mode, std::string_view room, std::uint64_t from,
                       std::uint64_t to);
// Ends a replay page that did not hold everything: resume again after `after`.
std::string encode_more(session_mode mode, std::string_view room, std::uint64_t after);
std::string encode_pong();
// The server's keepalive probe; a JSON client answers {"type":"pong"}.
std::string encode_ping();

// Client-to-server frames, for the bundled client and the tests.
std::string encode_hello_request(std::string_view user, std::string_view password = {});
std::string encode_message_request(std::string_view text, std::string_view ref_json = {});
std::string encode_resume_request(std::string_view room, std::uint64_t after);
// {"type":"<type>"} for the requests without fields: ping, who, quit.
std::string encode_bare_request(std::string_view type);

}  // namespace chat::protocol
