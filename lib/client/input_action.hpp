#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace chat::client {

// What an account request does to the password a reconnect logs in with,
// once the server says it is done (registered, password-changed,
// unregistered).
struct password_change {
  // Empty: the account is gone, a reconnect logs in as a guest.
  std::string password;
};

// What one line of input asks chat-client to do: send a frame to the server
// or answer locally without sending anything.
struct send_frame {
  std::string frame;  // LF-ended
  // The frame asks the server to close the session.
  bool quits = false;
  // The server's answer to the frame (joined, left or an error) may change
  // the current room. Lines typed after it are to wait for that answer, so
  // that a message typed after `/join dev` goes to dev even when both were
  // pasted at once.
  bool changes_room = false;
  // A script's own ping (json mode): the pong that answers it is the
  // script's to see, not one of the client's.
  bool asks_pong = false;
  // /resume: the room whose replay it asks for, and from where; empty for
  // any other frame.
  std::string resume_room{};
  std::uint64_t resume_after = 0;
  // A chat message to a room that carries a ref (see interpret_input): the
  // ref, the room it went to and its text. 0 for any other frame.
  std::uint64_t ref = 0;
  std::string room{};
  std::string text{};
  // /register, /password, /unregister (or their JSON requests in json
  // mode): the password to remember when the server agrees.
  std::optional<password_change> account{};
};
struct local_reply {
  std::string text;  // without a final LF; may be several lines
  bool is_error = false;
};
using input_action = std::variant<send_frame, local_reply>;

enum class input_mode {
  // Lines are chat: /join, /msg, /help... are commands (see help_text()),
  // //text sends /text, the rest are messages to the current room.
  chat,
  // For scripts: lines starting with `{` are sent as they are (any request
  // the protocol knows), the rest are messages to the server's idea of the
  // current room.
  json,
};

// `line` has no line end and is not empty. `current_room` is where chat
// messages go, and what commands without a room name act on; empty when the
// client is in no room (the server then says so). In chat mode, a line that
// is a message to the current room carries `ref` when it is not 0, so that
// the server's ack says which id it got (its ref is not shown: nobody typed
// it). In json mode nothing is added to what the script sends.
input_action interpret_input(std::string_view line, input_mode mode,
                             std::string_view current_room = {}, std::uint64_t ref = 0);

// What /help shows: every command chat mode knows.
std::string help_text();

}  // namespace chat::client
