#include "client/server_event.hpp"

#include <nlohmann/json.hpp>

#include "protocol/event.hpp"

namespace chat::client {

namespace {

using json = nlohmann::json;

std::string without_line_end(std::string frame) {
  if (!frame.empty() && frame.back() == '\n') frame.pop_back();
  return frame;
}

// Field readers that report absence or a wrong type instead of throwing:
// a malformed envelope is shown raw rather than ending the session.
bool read_string(const json& object, const char* key, std::string& out) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool read_names(const json& object, const char* key, std::vector<std::string>& out) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return false;
  for (const auto& name : *it) {
    if (!name.is_string()) return false;
    out.push_back(name.get<std::string>());
  }
  return true;
}

template <class Number>
bool read_number(const json& object, const char* key, Number& out) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return false;
  out = it->get<Number>();
  return true;
}

// Members the server leaves out when they have nothing to say (a topic never
// set): absence is fine, a wrong type is not.
bool read_optional_string(const json& object, const char* key, std::string& out) {
  return !object.contains(key) || read_string(object, key, out);
}

bool read_optional_flag(const json& object, const char* key, bool& out) {
  const auto it = object.find(key);
  if (it == object.end()) return true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

// A ref this client could have set: a non-negative integer. Any other ref
// (a script's own in --json mode) is left unset, not an error.
void read_ref(const json& object, server_event& event) {
  const auto it = object.find("ref");
  if (it != object.end() && it->is_number_unsigned()) event.ref = it->get<std::uint64_t>();
}

// Who is in a room, as welcome and joined tell it: the names, or in a large
// room how many.
bool read_members(const json& object, server_event& event) {
  if (object.contains("users")) return read_names(object, "users", event.users);
  return read_number(object, "count", event.member_count);
}

bool read_rooms(const json& object, std::vector<room_entry>& out) {
  const auto it = object.find("rooms");
  if (it == object.end() || !it->is_array()) return false;
  for (const auto& item : *it) {
    room_entry entry;
    if (!item.is_object() || !read_string(item, "room", entry.room) ||
        !read_number(item, "users", entry.users) ||
        !read_optional_string(item, "topic", entry.topic)) {
      return false;
    }
    out.push_back(std::move(entry));
  }
  return true;
}

bool read_messages(const json& object, std::vector<past_message>& out) {
  const auto it = object.find("messages");
  if (it == object.end() || !it->is_array()) return false;
  for (const auto& item : *it) {
    past_message message;
    if (!item.is_object() || !read_number(item, "id", message.id) ||
        !read_number(item, "ts", message.ts_ms) || !read_string(item, "from", message.from) ||
        !read_string(item, "text", message.text)) {
      return false;
    }
    out.push_back(std::move(message));
  }
  return true;
}

bool decode_fields(const json& object, const std::string& type, server_event& event) {
  using kind = server_event::kind;
  if (type == "welcome") {
    event.type = kind::welcome;
    return read_string(object, "user", event.user) && read_string(object, "room", event.room) &&
           read_members(object, event) && read_optional_string(object, "topic", event.topic);
  }
  if (type == "join" || type == "leave") {
    event.type = type == "join" ? kind::join : kind::leave;
    return read_string(object, "room", event.room) && read_string(object, "user", event.user);
  }
  if (type == "msg") {
    event.type = kind::message;
    return read_number(object, "id", event.id) && read_number(object, "ts", event.ts_ms) &&
           read_string(object, "room", event.room) && read_string(object, "from", event.from) &&
           read_string(object, "text", event.text) &&
           read_optional_flag(object, "history", event.history);
  }
  if (type == "ack") {
    event.type = kind::ack;
    read_ref(object, event);
    return read_number(object, "id", event.id);
  }
  if (type == "users") {
    event.type = kind::users;
    return read_string(object, "room", event.room) && read_names(object, "users", event.users);
  }
  if (type == "error") {
    event.type = kind::error;
    read_ref(object, event);
    if (object.contains("retry_after")) {
      std::uint64_t seconds = 0;
      if (!read_number(object, "retry_after", seconds)) return false;
      event.retry_after = seconds;
    }
    return read_string(object, "code", event.code) && read_string(object, "message", event.text) &&
           (!object.contains("last_id") || read_number(object, "last_id", event.last_id));
  }
  if (type == "shutdown") {
    event.type = kind::shutdown;
    return true;
  }
  if (type == "pong") {
    event.type = kind::pong;
    return true;
  }
  if (type == "ping") {
    event.type = kind::ping;
    return true;
  }
  if (type == "joined") {
    event.type = kind::joined;
    return read_string(object, "room", event.room) && read_members(object, event) &&
           read_optional_string(object, "topic", event.topic);
  }
  if (type == "left") {
    event.type = kind::left;
    return read_string(object, "room", event.room);
  }
  if (type == "rooms") {
    event.type = kind::rooms;
    return read_rooms(object, event.rooms);
  }
  if (type == "topic") {
    event.type = kind::topic;
    return read_string(object, "room", event.room) && read_string(object, "text", event.topic) &&
           read_optional_string(object, "by", event.by);
  }
  if (type == "dm") {
    event.type = kind::direct;
    return read_number(object, "id", event.id) && read_number(object, "ts", event.ts_ms) &&
           read_string(object, "from", event.from) && read_string(object, "to", event.to) &&
           read_string(object, "text", event.text);
  }
  if (type == "nick") {
    event.type = kind::nick;
    return read_string(object, "old", event.from) && read_string(object, "new", event.to);
  }
  if (type == "gap") {
    event.type = kind::gap;
    return read_string(object, "room", event.room) && read_number(object, "from", event.from_id) &&
           read_number(object, "to", event.to_id);
  }
  if (type == "more") {
    event.type = kind::more;
    return read_string(object, "room", event.room) && read_number(object, "after", event.after);
  }
  if (type == "registered" || type == "password-changed" || type == "unregistered") {
    event.type = type == "registered"         ? kind::registered
                 : type == "password-changed" ? kind::password_changed
                                              : kind::unregistered;
    return read_string(object, "user", event.user);
  }
  if (type == "history") {
    event.type = kind::history;
    return read_string(object, "room", event.room) && read_messages(object, event.messages);
  }
  return false;
}

}  // namespace

server_event decode_server_event(std::string_view frame) {
  server_event event;
  // The prompt is the one frame that is the same in both session modes.
  static const std::string prompt = without_line_end(protocol::encode_prompt());
  if (frame == prompt) {
    event.type = server_event::kind::prompt;
    return event;
  }
  if (frame.empty() || frame.front() != '{') return event;

  const json object = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  std::string type;
  if (!object.is_object() || !read_string(object, "type", type)) return event;
  if (!decode_fields(object, type, event)) return server_event{};
  return event;
}

}  // namespace chat::client
