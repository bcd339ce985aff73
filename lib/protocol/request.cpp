#include "protocol/request.hpp"

#include <nlohmann/json.hpp>

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

// A message is one line of text: a line break inside it would split the frame
// for every plain-text recipient.
bool is_single_line(std::string_view text) {
  return text.find_first_of(std::string_view("\n\r\0", 3)) == std::string_view::npos;
}

decoded<any_request> decode_json_message(const json& object) {
  const auto text = object.find("text");
  if (text == object.end() || !text->is_string()) {
    return bad_request("msg needs a string field \"text\"");
  }
  request::message message{text->get<std::string>(), {}};
  if (message.text.empty()) return bad_request("msg text must not be empty");
  if (!is_single_line(message.text)) return bad_request("msg text must be a single line");
  if (const auto ref = object.find("ref"); ref != object.end()) message.ref_json = ref->dump();
  return message;
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
  const json& object = std::get<json>(parsed);
  const auto& type = object["type"].get_ref<const std::string&>();
  if (type == "msg") return decode_json_message(object);
  if (type == "ping") return request::ping{};
  if (type == "who") return request::who{};
  if (type == "quit") return request::quit{};
  return bad_request("unknown request type \"" + type + "\"");
}

decoded<any_request> decode_plain_request(std::string_view frame) {
  if (!frame.starts_with('/')) return request::message{std::string(frame), {}};
  if (frame.starts_with("//")) return request::message{std::string(frame.substr(1)), {}};
  const std::string_view command = frame.substr(0, frame.find(' '));
  if (command == "/who") return request::who{};
  if (command == "/quit") return request::quit{};
  if (command == "/help") return request::help{};
  return decode_error{error_code::unknown_command,
                      "unknown command " + std::string(command) + " (try /help)"};
}

}  // namespace chat::protocol
