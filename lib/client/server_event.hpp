#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::client {

// A frame from the server, decoded just enough for the client to act on it
// and show it. Fields not used by a kind stay empty.
struct server_event {
  enum class kind {
    prompt,    // USER: the server wants a name
    welcome,   // user, room, users
    join,      // room, user
    leave,     // room, user
    message,   // id, ts_ms, room, from, text
    ack,       // id (the ref is not kept: this client sends none)
    users,     // room, users
    error,     // code, text
    shutdown,
    pong,
    // Anything else, including envelopes of a newer server and plain-text
    // frames: shown as received.
    other,
  };

  kind type = kind::other;
  std::string user;
  std::string room;
  std::string from;
  // The message text, or an error's human-readable message.
  std::string text;
  std::string code;
  std::vector<std::string> users;
  std::uint64_t id = 0;
  std::int64_t ts_ms = 0;
};

server_event decode_server_event(std::string_view frame);

}  // namespace chat::client
