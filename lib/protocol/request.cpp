#include "protocol/request.hpp"

#include <algorithm>

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

decoded<any_request> make_message(std::string text, std::string ref_json) {
  if (text.empty()) return bad_request("message text must not be empty");
  if (!is_printable_text(text)) {
    return bad_request("message text must not contain control characters");
  }
  return request::message{std::move(text), std::move(ref_json)};
}

decoded<any_request> decode_json_message(std::string_view frame, const json& object) {
  const auto text = object.find("text");
  if (text == object.end() || !text->is_string()) {
    return bad_request("msg needs a string field \"text\"");
  }
  std::string ref_json;
  if (const auto ref = object.find("ref"); ref != object.end()) {
    // The client's own text of ref, unless it spans lines: whitespace inside
    // it may be a CR, which must not reach the ack's frame.
    const auto raw = raw_member(frame, "ref");
    ref_json = raw && raw->find_first_of("\r\n") == std::string_view::npos ? std::string(*raw)
                                                                           : ref->dump();
  }
  return make_message(text->get<std::string>(), std::move(ref_json));
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
  if (type == "msg") return decode_json_message(frame, object);
  if (type == "ping") return request::ping{};
  if (type == "who") return request::who{};
  if (type == "quit") return request::quit{};
  return bad_request("unknown request type \"" + type + "\"");
}

decoded<any_request> decode_plain_request(std::string_view frame) {
  if (!frame.starts_with('/')) return make_message(std::string(frame), {});
  if (frame.starts_with("//")) return make_message(std::string(frame.substr(1)), {});
  const std::string_view command = frame.substr(0, frame.find(' '));
  if (command == "/who") return request::who{};
  if (command == "/quit") return request::quit{};
  if (command == "/help") return request::help{};
  return decode_error{error_code::unknown_command,
                      "unknown command " + std::string(command) + " (try /help)"};
}

}  // namespace chat::protocol
