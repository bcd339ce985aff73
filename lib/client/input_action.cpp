#include "client/input_action.hpp"

#include <nlohmann/json.hpp>

#include "protocol/event.hpp"
#include "protocol/utf8.hpp"

namespace chat::client {

namespace {

bool is_quit_request(std::string_view frame) {
  const auto request = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object()) return false;
  const auto type = request.find("type");
  return type != request.end() && *type == "quit";
}

input_action chat_command(std::string_view line) {
  if (line == "/who") return send_frame{protocol::encode_bare_request("who")};
  if (line == "/quit") return send_frame{protocol::encode_bare_request("quit"), true};
  if (line == "/help") {
    // The commands are the server's plain-session ones, so is their help.
    std::string help = protocol::encode_help();
    help.pop_back();
    return local_reply{std::move(help)};
  }
  // A mistyped command is more likely than a message that starts with `/`;
  // sending it to the whole room would be the worse mistake.
  return local_reply{"! unknown command " + std::string(line) + " (/help lists commands)", true};
}

}  // namespace

input_action interpret_input(std::string_view line, input_mode mode) {
  if (mode == input_mode::json && line.front() == '{') {
    // Sent untouched, even when invalid: the server's error is the answer a
    // script asked for.
    std::string frame(line);
    frame.push_back('\n');
    return send_frame{std::move(frame), is_quit_request(line)};
  }
  // The JSON encoder needs valid UTF-8, and the server would refuse it anyway.
  if (!protocol::is_valid_utf8(line)) {
    return local_reply{"! not sent: the line is not valid UTF-8", true};
  }
  if (mode == input_mode::chat && line.front() == '/') {
    if (!line.starts_with("//")) return chat_command(line);
    line.remove_prefix(1);
  }
  return send_frame{protocol::encode_message_request(line)};
}

}  // namespace chat::client
