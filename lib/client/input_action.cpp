#include "client/input_action.hpp"

#include <charconv>
#include <cstdint>
#include <utility>

#include <nlohmann/json.hpp>

#include "protocol/event.hpp"
#include "protocol/json_text.hpp"
#include "protocol/request.hpp"
#include "protocol/utf8.hpp"

namespace chat::client {

namespace {

// A string member of a JSON object; empty when absent or not a string.
std::string string_member(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// A script's account request (json mode), as it changes the password a
// reconnect logs in with.
std::optional<password_change> account_change(const nlohmann::json& request,
                                              std::string_view type) {
  if (type == "register") return password_change{string_member(request, "password")};
  if (type == "password") return password_change{string_member(request, "new")};
  if (type == "unregister") return password_change{};
  return std::nullopt;
}

// A JSON request written member by member, "type" first, so that a frame
// reads in the order PROTOCOL.md lists its members.
class request_text {
public:
  explicit request_text(std::string_view type) : out_(R"({"type":)") {
    protocol::append_json_string(out_, type);
  }

  request_text& with(std::string_view key, std::string_view value) {
    out_.append(",\"").append(key).append("\":");
    protocol::append_json_string(out_, value);
    return *this;
  }

  request_text& with(std::string_view key, std::uint64_t value) {
    out_.append(",\"").append(key).append("\":").append(std::to_string(value));
    return *this;
  }

  // The room a command acts on: the one named, else the current one; none
  // when there is neither, which the server answers with not-in-room.
  request_text& with_room(std::string_view named, std::string_view current) {
    const std::string_view room = named.empty() ? current : named;
    return room.empty() ? *this : with("room", room);
  }

  // Ends the request; the object is spent.
  send_frame frame(bool changes_room = false) {
    out_.append("}\n");
    return send_frame{std::move(out_), false, changes_room};
  }

private:
  std::string out_;
};

// Splits "word rest of line" at the first space, as the server's plain
// sessions do; the rest starts at its first non-space.
std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return {text, {}};
  std::string_view rest = text.substr(space + 1);
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  return {text.substr(0, space), rest};
}

local_reply usage(std::string_view form) {
  return local_reply{"! usage: " + std::string(form) + " (/help lists commands)", true};
}

input_action history_command(std::string_view argument, std::string_view current_room) {
  request_text request("history");
  request.with_room({}, current_room);
  const std::string_view count = split_word(argument).first;
  if (count.empty()) return request.frame();
  std::size_t limit = 0;
  const char* const end = count.data() + count.size();
  const auto [stop, ec] = std::from_chars(count.data(), end, limit);
  if (ec != std::errc{} || stop != end || limit < 1 || limit > protocol::max_history_page) {
    return usage("/history [N], N from 1 to " + std::to_string(protocol::max_history_page));
  }
  return request.with("limit", std::uint64_t{limit}).frame();
}

input_action chat_command(std::string_view line, std::string_view current_room) {
  const auto [command, argument] = split_word(line);
  // Commands that take one name use its first word, as the server's plain
  // sessions do; the server judges whether it is a valid name.
  const std::string_view word = split_word(argument).first;
  if (command == "/join") {
    if (word.empty()) return usage("/join ROOM");
    return request_text("join").with("room", word).frame(/*changes_room=*/true);
  }
  if (command == "/leave") {
    return request_text("leave").with_room(word, current_room).frame(/*changes_room=*/true);
  }
  if (command == "/rooms") return send_frame{protocol::encode_bare_request("rooms")};
  if (command == "/who") return request_text("who").with_room(word, current_room).frame();
  if (command == "/topic") {
    request_text request("topic");
    request.with_room({}, current_room);
    if (!argument.empty()) request.with("text", argument);
    return request.frame();
  }
  if (command == "/msg") {
    const auto [to, text] = split_word(argument);
    if (to.empty() || text.empty()) return usage("/msg NAME TEXT");
    return request_text("dm").with("to", to).with("text", text).frame();
  }
  if (command == "/nick") {
    if (word.empty()) return usage("/nick NAME");
    return request_text("nick").with("user", word).frame();
  }
  if (command == "/history") return history_command(argument, current_room);
  if (command == "/resume") {
    const auto [room, rest] = split_word(argument);
    const std::string_view id = split_word(rest).first;
    std::uint64_t after = 0;
    const char* const end = id.data() + id.size();
    const auto [stop, ec] = std::from_chars(id.data(), end, after);
    if (room.empty() || id.empty() || ec != std::errc{} || stop != end) {
      return usage("/resume ROOM ID");
    }
    // Joins the room if need be, which makes it current as /join does.
    send_frame request =
        request_text("resume").with("room", room).with("after", after).frame(/*changes_room=*/true);
    request.resume_room = std::string(room);
    request.resume_after = after;
    return request;
  }
  // A password is the rest of the line, inner spaces included, as the
  // server's plain sessions take it; the server judges its length.
  if (command == "/register") {
    if (argument.empty()) return usage("/register PASSWORD");
    send_frame request = request_text("register").with("password", argument).frame();
    request.account = password_change{std::string(argument)};
    return request;
  }
  if (command == "/password") {
    const auto [old_password, new_password] = split_word(argument);
    if (old_password.empty() || new_password.empty()) return usage("/password OLD NEW");
    send_frame request =
        request_text("password").with("old", old_password).with("new", new_password).frame();
    request.account = password_change{std::string(new_password)};
    return request;
  }
  if (command == "/unregister") {
    if (argument.empty()) return usage("/unregister PASSWORD");
    send_frame request = request_text("unregister").with("password", argument).frame();
    request.account = password_change{};
    return request;
  }
  if (command == "/quit") return send_frame{protocol::encode_bare_request("quit"), true};
  if (command == "/help") return local_reply{help_text()};
  // A mistyped command is more likely than a message that starts with `/`;
  // sending it to the whole room would be the worse mistake.
  return local_reply{"! unknown command " + std::string(command) + " (/help lists commands)", true};
}

}  // namespace

std::string help_text() {
  return "* commands:\n"
         "  /join ROOM      join ROOM, created if need be; it becomes your current room\n"
         "  /leave [ROOM]   leave ROOM or the current room; the current room becomes the\n"
         "                  one you joined last of those you are still in\n"
         "  /rooms          list the rooms with their number of users and topics\n"
         "  /who [ROOM]     list who is in ROOM or the current room\n"
         "  /topic [TEXT]   set the topic of the current room, or show it\n"
         "  /msg NAME TEXT  send TEXT to NAME alone, shown to them as [dm]\n"
         "  /nick NAME      change your name\n"
         "  /history [N]    show the last N messages of the current room (default 50,\n"
         "                  at most " +
         std::to_string(protocol::max_history_page) +
         ")\n"
         "  /resume ROOM ID show every message of ROOM after id ID (joining it)\n"
         "  /register PASSWORD  make your name an account with PASSWORD (8 or more\n"
         "                  bytes); log in with --password-file or the password asked\n"
         "  /password OLD NEW   change your account's password\n"
         "  /unregister PASSWORD  delete your account; you go on as a guest\n"
         "  //TEXT          send the message /TEXT\n"
         "  /help           show this list\n"
         "  /quit           leave the chat\n"
         "  any other line is a message to your current room. Messages shown without a\n"
         "  [#room] are from it; [dm] marks direct messages, [history] earlier ones.";
}

input_action interpret_input(std::string_view line, input_mode mode, std::string_view current_room,
                             std::uint64_t ref) {
  if (mode == input_mode::json && line.front() == '{') {
    // Sent untouched, even when invalid: the server's error is the answer a
    // script asked for.
    std::string frame(line);
    frame.push_back('\n');
    const auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string type = parsed.is_object() ? string_member(parsed, "type") : std::string();
    send_frame request{std::move(frame), type == "quit"};
    request.asks_pong = type == "ping";
    if (parsed.is_object()) request.account = account_change(parsed, type);
    return request;
  }
  // The JSON encoder needs valid UTF-8, and the server would refuse it anyway.
  if (!protocol::is_valid_utf8(line)) {
    return local_reply{"! not sent: the line is not valid UTF-8", true};
  }
  if (mode == input_mode::json) return send_frame{protocol::encode_message_request(line)};
  if (line.front() == '/') {
    if (!line.starts_with("//")) return chat_command(line, current_room);
    line.remove_prefix(1);
  }
  request_text request("msg");
  request.with_room({}, current_room).with("text", line);
  if (ref == 0 || current_room.empty()) return request.frame();
  send_frame message = request.with("ref", ref).frame();
  message.ref = ref;
  message.room = std::string(current_room);
  message.text = std::string(line);
  return message;
}

}  // namespace chat::client
