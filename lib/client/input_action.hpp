#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace chat::client {

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
// client is in no room (the server then says so).
input_action interpret_input(std::string_view line, input_mode mode,
                             std::string_view current_room = {});

// What /help shows: every command chat mode knows.
std::string help_text();

}  // namespace chat::client
