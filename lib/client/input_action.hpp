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
};
struct local_reply {
  std::string text;  // without LF
  bool is_error = false;
};
using input_action = std::variant<send_frame, local_reply>;

enum class input_mode {
  // Lines are chat: /who, /quit, /help and //text are commands, the rest
  // are messages.
  chat,
  // For scripts: lines starting with `{` are sent as they are (any request
  // the protocol knows), the rest are messages.
  json,
};

// `line` has no line end and is not empty.
input_action interpret_input(std::string_view line, input_mode mode);

}  // namespace chat::client
