#include "protocol/event.hpp"

#include "protocol/json_text.hpp"

namespace chat::protocol {

namespace {

void append_name_list(std::string& out, std::span<const std::string> names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out.append(", ");
    out.append(names[i]);
  }
}

void append_json_name_array(std::string& out, std::span<const std::string> names) {
  out.push_back('[');
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_string(out, names[i]);
  }
  out.push_back(']');
}

// {"type":"<type>","room":<room>,"user":<user>}
std::string encode_membership(std::string_view type, std::string_view room,
                              std::string_view user) {
  std::string out;
  out.reserve(48 + room.size() + user.size());
  out.append(R"({"type":")").append(type).append(R"(","room":)");
  append_json_string(out, room);
  out.append(R"(,"user":)");
  append_json_string(out, user);
  out.append("}\n");
  return out;
}

std::string plain_line(std::string_view a, std::string_view b = {}, std::string_view c = {},
                       std::string_view d = {}) {
  std::string out;
  out.reserve(a.size() + b.size() + c.size() + d.size() + 1);
  out.append(a).append(b).append(c).append(d).push_back('\n');
  return out;
}

}  // namespace

std::string encode_prompt() { return "USER\n"; }

std::string encode_welcome(session_mode mode, std::string_view user, std::string_view room,
                           std::span<const std::string> users) {
  std::string out;
  if (mode == session_mode::json) {
    out.append(R"({"type":"welcome","user":)");
    append_json_string(out, user);
    out.append(R"(,"room":)");
    append_json_string(out, room);
    out.append(R"(,"users":)");
    append_json_name_array(out, users);
    out.append("}\n");
  } else {
    out.append("* welcome ").append(user).append(", you are in ").append(room).append(" with: ");
    append_name_list(out, users);
    out.append(" (/help lists commands)\n");
  }
  return out;
}

std::string encode_join(session_mode mode, std::string_view room, std::string_view user) {
  if (mode == session_mode::json) return encode_membership("join", room, user);
  return plain_line("* ", user, " joined ", room);
}

std::string encode_leave(session_mode mode, std::string_view room, std::string_view user) {
  if (mode == session_mode::json) return encode_membership("leave", room, user);
  return plain_line("* ", user, " left ", room);
}

std::string encode_message(session_mode mode, std::uint64_t id, std::int64_t ts_ms,
                           std::string_view room, std::string_view from, std::string_view text) {
  if (mode == session_mode::plain) return plain_line(from, ": ", text);
  std::string out;
  out.reserve(72 + room.size() + from.size() + text.size());
  out.append(R"({"type":"msg","id":)").append(std::to_string(id));
  out.append(R"(,"ts":)").append(std::to_string(ts_ms));
  out.append(R"(,"room":)");
  append_json_string(out, room);
  out.append(R"(,"from":)");
  append_json_string(out, from);
  out.append(R"(,"text":)");
  append_json_string(out, text);
  out.append("}\n");
  return out;
}

std::string encode_users(session_mode mode, std::string_view room,
                         std::span<const std::string> users) {
  std::string out;
  if (mode == session_mode::json) {
    out.append(R"({"type":"users","room":)");
    append_json_string(out, room);
    out.append(R"(,"users":)");
    append_json_name_array(out, users);
    out.append("}\n");
  } else {
    out.append("* users in ").append(room).append(": ");
    append_name_list(out, users);
    out.push_back('\n');
  }
  return out;
}

std::string encode_error(session_mode mode, error_code code, std::string_view message) {
  if (mode == session_mode::plain) return plain_line("! error ", to_string(code), ": ", message);
  std::string out;
  out.append(R"({"type":"error","code":")").append(to_string(code)).append(R"(","message":)");
  append_json_string(out, message);
  out.append("}\n");
  return out;
}

std::string encode_shutdown(session_mode mode) {
  if (mode == session_mode::json) return "{\"type\":\"shutdown\"}\n";
  return "* server is shutting down\n";
}

std::string encode_help() {
  return "* commands: /who lists the room, /quit leaves, /help shows this;"
         " any other line is a message (start it with // to send a leading /)\n";
}

std::string encode_ack(std::string_view ref_json, std::uint64_t id) {
  std::string out;
  out.append(R"({"type":"ack","ref":)").append(ref_json);
  out.append(R"(,"id":)").append(std::to_string(id)).append("}\n");
  return out;
}

std::string encode_pong() { return "{\"type\":\"pong\"}\n"; }

std::string encode_hello_request(std::string_view user) {
  std::string out(R"({"type":"hello","user":)");
  append_json_string(out, user);
  out.append("}\n");
  return out;
}

std::string encode_message_request(std::string_view text, std::string_view ref_json) {
  std::string out(R"({"type":"msg","text":)");
  append_json_string(out, text);
  if (!ref_json.empty()) out.append(R"(,"ref":)").append(ref_json);
  out.append("}\n");
  return out;
}

std::string encode_bare_request(std::string_view type) {
  std::string out(R"({"type":)");
  append_json_string(out, type);
  out.append("}\n");
  return out;
}

}  // namespace chat::protocol
