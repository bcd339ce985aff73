#include "protocol/request.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include <nlohmann/json.hpp>

#include "protocol/json_text.hpp"
#include "protocol/names.hpp"

namespace chat::protocol {

namespace {

using json = nlohmann::json;

decode_error bad_request(std::string message) {
  return {error_code::bad_request, std::move(message)};
}

decode_error bad_name(std::string_view name) {
  return {error_code::bad_name,
          "names are 1 to 32 of A-Z a-z 0-9 _ . - (got \"" + std::string(name) + "\")"};
}

decode_error bad_room(std::string_view room) {
  return {error_code::bad_request,
          "room names are 1 to 64 of A-Z a-z 0-9 _ . -, with an optional leading # (got \"" +
              std::string(room) + "\")"};
}

// Parses a JSON session frame into an object, or says why it is not one.
std::variant<json, decode_error> parse_object(std::string_view frame) {
  json value = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return decode_error{error_code::bad_json, "the line is not valid JSON"};
  if (!value.is_object()) return bad_request("a request must be a JSON object");
  const auto type = value.find("type");
  if (type == value.end() || !type->is_string()) {
    return bad_request("a request needs a string field \"type\"");
  }
  return value;
}

// Plain-text recipients see message text raw: a line break would split their
// frame, and other control characters (ESC above all) would drive their
// terminal. Tab is the one kept.
bool is_printable_text(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7F;
  });
}

// Why `text` cannot be a message, if it cannot.
std::optional<decode_error> text_error(std::string_view text) {
  if (text.empty()) return bad_request("message text must not be empty");
  if (!is_printable_text(text)) {
    return bad_request("message text must not contain control characters");
  }
  return std::nullopt;
}

decoded<any_request> make_message(std::string text, std::string ref_json = {},
                                  std::string room = {}) {
  if (auto error = text_error(text)) return std::move(*error);
  return request::message{std::move(text), std::move(ref_json), std::move(room)};
}

// The client's own text of `ref`, or empty when absent. Its own text rather
// than a re-serialisation keeps it exact (integers beyond 64 bits), unless it
// spans lines: whitespace inside it may be a CR, which must not reach a frame.
std::string ref_text(std::string_view frame, const json& object) {
  const auto ref = object.find("ref");
  if (ref == object.end()) return {};
  const auto raw = raw_member(frame, "ref");
  if (raw && raw->find_first_of("\r\n") == std::string_view::npos) return std::string(*raw);
  return ref->dump();
}

// Reads an optional string member; false when present with another type.
bool optional_string(const json& object, const char* key, std::optional<std::string>& out) {
  const auto member = object.find(key);
  if (member == object.end()) return true;
  if (!member->is_string()) return false;
  out = member->get<std::string>();
  return true;
}

std::variant<std::string, decode_error> required_string(const json& object, const char* key,
                                                        std::string_view type) {
  const auto member = object.find(key);
  if (member == object.end() || !member->is_string()) {
    return bad_request(std::string(type) + " needs a string field \"" + key + "\"");
  }
  return member->get<std::string>();
}

// A room member that may be absent (the current room) but must be a valid
// name when present.
std::variant<std::string, decode_error> optional_room(const json& object, std::string_view type) {
  std::optional<std::string> room;
  if (!optional_string(object, "room", room)) {
    return bad_request(std::string(type) + ": \"room\" must be a string");
  }
  if (!room) return std::string();
  auto normalized = normalize_room_name(*room);
  if (!normalized) return bad_room(*room);
  return std::move(*normalized);
}

std::variant<std::size_t, decode_error> optional_count(const json& object, const char* key,
                                                       std::size_t fallback, std::size_t low,
                                                       std::size_t high) {
  const auto member = object.find(key);
  if (member == object.end()) return fallback;
  if (!member->is_number_unsigned() || member->get<std::uint64_t>() < low ||
      member->get<std::uint64_t>() > high) {
    return bad_request(std::string("\"") + key + "\" must be an integer in " +
                       std::to_string(low) + ".." + std::to_string(high));
  }
  return static_cast<std::size_t>(member->get<std::uint64_t>());
}

// Unwraps a std::variant<T, decode_error> or returns its error from the
// enclosing decoder.
#define CHAT_TRY(target, expression)                                       \
  auto target##_result = (expression);                                     \
  if (auto* target##_error = std::get_if<decode_error>(&target##_result)) { \
    return std::move(*target##_error);                                     \
  }                                                                        \
  auto target = std::move(std::get<0>(target##_result))

decoded<any_request> decode_json_object(std::string_view frame, const json& object) {
  const auto& type = object["type"].get_ref<const std::string&>();
  if (type == "msg") {
    CHAT_TRY(text, required_string(object, "text", type));
    CHAT_TRY(room, optional_room(object, type));
    return make_message(std::move(text), ref_text(frame, object), std::move(room));
  }
  if (type == "dm") {
    CHAT_TRY(to, required_string(object, "to", type));
    CHAT_TRY(text, required_string(object, "text", type));
    if (!is_valid_name(to)) return bad_name(to);
    if (auto error = text_error(text)) return std::move(*error);
    return request::direct{std::move(to), std::move(text), ref_text(frame, object)};
  }
  if (type == "join") {
    CHAT_TRY(room, required_string(object, "room", type));
    auto normalized = normalize_room_name(room);
    if (!normalized) return bad_room(room);
    return request::join{std::move(*normalized)};
  }
  if (type == "leave") {
    CHAT_TRY(room, optional_room(object, type));
    return request::leave{std::move(room)};
  }
  if (type == "who") {
    CHAT_TRY(room, optional_room(object, type));
    return request::who{std::move(room)};
  }
  if (type == "topic") {
    CHAT_TRY(room, optional_room(object, type));
    request::topic topic{std::move(room), std::nullopt};
    if (!optional_string(object, "text", topic.text)) {
      return bad_request("topic: \"text\" must be a string");
    }
    if (topic.text && !topic.text->empty() && !is_printable_text(*topic.text)) {
      return bad_request("a topic must not contain control characters");
    }
    return topic;
  }
  if (type == "nick") {
    CHAT_TRY(user, required_string(object, "user", type));
    if (!is_valid_name(user)) return bad_name(user);
    return request::nick{std::move(user)};
  }
  if (type == "history") {
    CHAT_TRY(room, optional_room(object, type));
    CHAT_TRY(before, optional_count(object, "before", 0, 0, SIZE_MAX));
    CHAT_TRY(limit, optional_count(object, "limit", 50, 1, max_history_page));
    return request::history{std::move(room), before, limit};
  }
  if (type == "rooms") return request::rooms{};
  if (type == "ping") return request::ping{};
  if (type == "pong") return request::pong{};
  if (type == "quit") return request::quit{};
  return bad_request("unknown request type \"" + type + "\"");
}

#undef CHAT_TRY

// Splits "word rest of line" at the first space.
std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return {text, {}};
  std::string_view rest = text.substr(space + 1);
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  return {text.substr(0, space), rest};
}

decoded<any_request> plain_room_command(std::string_view argument, bool required,
                                        std::string_view usage, auto make) {
  const std::string_view word = split_word(argument).first;
  if (word.empty()) {
    if (required) return bad_request("usage: " + std::string(usage));
    return make(std::string());
  }
  auto room = normalize_room_name(word);
  if (!room) return bad_room(word);
  return make(std::move(*room));
}

}  // namespace

decoded<hello> decode_hello(std::string_view frame) {
  if (!frame.starts_with('{')) {
    if (!is_valid_name(frame)) return bad_name(frame);
    return hello{std::string(frame), false};
  }
  auto parsed = parse_object(frame);
  if (auto* error = std::get_if<decode_error>(&parsed)) return std::move(*error);
  const json& object = std::get<json>(parsed);
  const auto user = object.find("user");
  if (object["type"] != "hello" || user == object.end() || !user->is_string()) {
    return bad_request(R"(expected {"type":"hello","user":NAME})");
  }
  const auto& name = user->get_ref<const std::string&>();
  if (!is_valid_name(name)) return bad_name(name);
  return hello{name, true};
}

decoded<any_request> decode_json_request(std::string_view frame) {
  auto parsed = parse_object(frame);
  if (auto* error = std::get_if<decode_error>(&parsed)) return std::move(*error);
  return decode_json_object(frame, std::get<json>(parsed));
}

decoded<any_request> decode_plain_request(std::string_view frame) {
  if (!frame.starts_with('/')) return make_message(std::string(frame));
  if (frame.starts_with("//")) return make_message(std::string(frame.substr(1)));
  const auto [command, argument] = split_word(frame);
  if (command == "/join") {
    return plain_room_command(argument, true, "/join ROOM",
                              [](std::string room) { return request::join{std::move(room)}; });
  }
  if (command == "/leave") {
    return plain_room_command(argument, false, "/leave [ROOM]",
                              [](std::string room) { return request::leave{std::move(room)}; });
  }
  if (command == "/who") {
    return plain_room_command(argument, false, "/who [ROOM]",
                              [](std::string room) { return request::who{std::move(room)}; });
  }
  if (command == "/topic") {
    if (argument.empty()) return request::topic{};
    if (!is_printable_text(argument)) {
      return bad_request("a topic must not contain control characters");
    }
    return request::topic{{}, std::string(argument)};
  }
  if (command == "/msg") {
    const auto [to, text] = split_word(argument);
    if (to.empty() || text.empty()) return bad_request("usage: /msg NAME TEXT");
    if (!is_valid_name(to)) return bad_name(to);
    if (auto error = text_error(text)) return std::move(*error);
    return request::direct{std::string(to), std::string(text), {}};
  }
  if (command == "/nick") {
    const std::string_view user = split_word(argument).first;
    if (user.empty()) return bad_request("usage: /nick NAME");
    if (!is_valid_name(user)) return bad_name(user);
    return request::nick{std::string(user)};
  }
  if (command == "/rooms") return request::rooms{};
  if (command == "/quit") return request::quit{};
  if (command == "/help") return request::help{};
  return decode_error{error_code::unknown_command,
                      "unknown command " + std::string(command) + " (try /help)"};
}

}  // namespace chat::protocol
