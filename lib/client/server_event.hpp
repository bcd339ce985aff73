#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::client {

// One line of a `rooms` listing.
struct room_entry {
  std::string room;
  std::uint64_t users = 0;
  std::string topic;  // empty: none set
};

// One message of a `history` page.
struct past_message {
  std::uint64_t id = 0;
  std::int64_t ts_ms = 0;
  std::string from;
  std::string text;
};

// A frame from the server, decoded just enough for the client to act on it
// and show it. Fields not used by a kind stay empty.
struct server_event {
  enum class kind {
    prompt,   // USER: the server wants a name
    welcome,  // user, room, users or member_count, topic
    join,     // room, user
    leave,    // room, user
    message,  // id, ts_ms, room, from, text, history
    ack,      // id, ref
    users,    // room, users
    error,    // code, text, ref (of the message it is about), last_id (slow-consumer),
              // retry_after (rate-limited logins and password checks)
    shutdown,
    pong,
    joined,   // room, users or member_count, topic: this client joined the room
    left,     // room: this client left it
    rooms,    // rooms
    topic,    // room, topic, by (empty when it answers a question)
    direct,   // id, ts_ms, from, to, text
    nick,     // from (the old name), to (the new one)
    history,  // room, messages
    ping,     // the server's keepalive probe: answer it with a pong
    gap,      // room, from_id, to_id: messages with from_id < id <= to_id may be missing
    more,     // room, after: a replay page was cut short; resume after `after`
    // user: the account's answers (/register, /password, /unregister).
    registered,
    password_changed,
    unregistered,
    // Anything else, including envelopes of a newer server and plain-text
    // frames: shown as received.
    other,
  };

  kind type = kind::other;
  std::string user;
  std::string room;
  std::string from;
  std::string to;
  // The message text, or an error's human-readable message.
  std::string text;
  std::string code;
  std::string topic;
  std::string by;
  std::vector<std::string> users;
  // A large room's welcome or joined counts its members instead of listing
  // them in `users`; 0 when they are listed.
  std::uint64_t member_count = 0;
  std::vector<room_entry> rooms;
  std::vector<past_message> messages;
  std::uint64_t id = 0;
  std::int64_t ts_ms = 0;
  // A message from before the client joined, sent with the join or a replay.
  bool history = false;
  // The `ref` of an ack or error when it is an unsigned integer, the only
  // kind this client puts on its messages; unset otherwise.
  std::optional<std::uint64_t> ref;
  // gap: the range that may be missing.
  std::uint64_t from_id = 0;
  std::uint64_t to_id = 0;
  // more: where the next page starts.
  std::uint64_t after = 0;
  // slow-consumer error: the last message the server wrote to us (0: none).
  std::uint64_t last_id = 0;
  // rate-limited error of a login or password check: seconds to wait.
  std::optional<std::uint64_t> retry_after;
};

server_event decode_server_event(std::string_view frame);

}  // namespace chat::client
