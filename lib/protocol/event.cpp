#include "protocol/event.hpp"

#include <algorithm>
#include <cstring>

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

void append_json_topic(std::string& out, std::string_view topic) {
  if (topic.empty()) return;
  out.append(R"(,"topic":)");
  append_json_string(out, topic);
}

void append_plain_topic(std::string& out, std::string_view topic) {
  if (!topic.empty()) out.append("; topic: ").append(topic);
}

// Who is in a room as welcome and joined tell it: every name, or in a large
// room only how many.
struct roster {
  std::span<const std::string> names;
  std::size_t count;
  bool listed;
};

// What welcome and joined tell of a room: `"room":..,"users":[..],"topic":..}`
// (`"count":N` in place of `"users"` in a large room) and the end of the frame.
void append_json_room_view(std::string& out, std::string_view room, const roster& members,
                           std::string_view topic) {
  out.append(R"("room":)");
  append_json_string(out, room);
  if (members.listed) {
    out.append(R"(,"users":)");
    append_json_name_array(out, members.names);
  } else {
    out.append(R"(,"count":)").append(std::to_string(members.count));
  }
  append_json_topic(out, topic);
  out.append("}\n");
}

// The same in plain words: "ROOM with: a, b; topic: T", or "ROOM with 5000
// members (/who lists them)".
void append_plain_room_view(std::string& out, std::string_view room, const roster& members,
                            std::string_view topic) {
  out.append(room);
  if (members.listed) {
    out.append(" with: ");
    append_name_list(out, members.names);
  } else {
    out.append(" with ").append(std::to_string(members.count)).append(" members (/who lists them)");
  }
  append_plain_topic(out, topic);
}

roster listed(std::span<const std::string> names) { return {names, names.size(), true}; }
roster counted(std::size_t count) { return {{}, count, false}; }

std::string welcome(session_mode mode, std::string_view user, std::string_view room,
                    const roster& members, std::string_view topic) {
  std::string out;
  if (mode == session_mode::json) {
    out.append(R"({"type":"welcome","user":)");
    append_json_string(out, user);
    out.append(",");
    append_json_room_view(out, room, members, topic);
  } else {
    out.append("* welcome ").append(user).append(", you are in ");
    append_plain_room_view(out, room, members, topic);
    out.append(" (/help lists commands)\n");
  }
  return out;
}

std::string joined(session_mode mode, std::string_view room, const roster& members,
                   std::string_view topic) {
  std::string out;
  if (mode == session_mode::json) {
    out.append(R"({"type":"joined",)");
    append_json_room_view(out, room, members, topic);
  } else {
    out.append("* you joined ");
    append_plain_room_view(out, room, members, topic);
    out.push_back('\n');
  }
  return out;
}

// {"type":"<type>","room":<room>,"user":<user>}
std::string encode_membership(std::string_view type, std::string_view room, std::string_view user) {
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

std::string encode_password_prompt() { return "PASS\n"; }

std::string encode_welcome(session_mode mode, std::string_view user, std::string_view room,
                           std::span<const std::string> users, std::string_view topic) {
  return welcome(mode, user, room, listed(users), topic);
}

std::string encode_welcome(session_mode mode, std::string_view user, std::string_view room,
                           member_count members, std::string_view topic) {
  return welcome(mode, user, room, counted(members.value), topic);
}

std::string encode_join(session_mode mode, std::string_view room, std::string_view user) {
  if (mode == session_mode::json) return encode_membership("join", room, user);
  return plain_line("* ", user, " joined ", room);
}

std::string encode_leave(session_mode mode, std::string_view room, std::string_view user) {
  if (mode == session_mode::json) return encode_membership("leave", room, user);
  return plain_line("* ", user, " left ", room);
}

namespace {

using namespace std::string_view_literals;

// The decimal digits of an integer, kept on the stack and written two at a
// time from a table: std::to_chars first counts the digits, which costs as
// much again, and every message carries two such numbers.
class decimal {
public:
  explicit decimal(std::uint64_t value) noexcept : begin_(write(value)) {}
  explicit decimal(std::int64_t value) noexcept
      : begin_(write(value < 0 ? 0 - static_cast<std::uint64_t>(value)
                               : static_cast<std::uint64_t>(value))) {
    if (value < 0) *--begin_ = '-';
  }
  decimal(const decimal&) = delete;  // begin_ points into this very object
  decimal& operator=(const decimal&) = delete;

  std::string_view view() const noexcept {
    return {begin_, static_cast<std::size_t>(digits_ + sizeof digits_ - begin_)};
  }

private:
  char* write(std::uint64_t value) noexcept {
    static constexpr char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    char* at = digits_ + sizeof digits_;
    while (value >= 100) {
      at -= 2;
      std::memcpy(at, pairs + 2 * (value % 100), 2);
      value /= 100;
    }
    if (value >= 10) {
      at -= 2;
      std::memcpy(at, pairs + 2 * value, 2);
    } else {
      *--at = static_cast<char>('0' + value);
    }
    return at;
  }

  char digits_[24];  // 20 digits and a sign at most
  char* begin_;
};

// Copies `bytes` to `at`; returns the end of the copy. (std::copy rather
// than memcpy: an empty view may hold a null pointer.)
char* put(char* at, std::string_view bytes) noexcept {
  return std::copy(bytes.begin(), bytes.end(), at);
}

// The JSON form of a message whose room, sender and text need no escape, as
// nearly all do: written straight into a string of its exact size, where
// appending piece by piece would cost a call and a capacity check per piece.
std::string encode_unescaped_json_message(const message_view& message) {
  constexpr std::string_view head = R"({"type":"msg","id":)";
  constexpr std::string_view ts_key = R"(,"ts":)";
  constexpr std::string_view room_key = R"(,"room":")";
  constexpr std::string_view from_key = R"(","from":")";
  constexpr std::string_view text_key = R"(","text":")";
  constexpr std::string_view text_end = R"(")";
  constexpr std::string_view history = R"(,"history":true)";
  constexpr std::string_view tail = "}\n";
  const decimal id(message.id);
  const decimal ts(message.ts_ms);
  const std::size_t size = head.size() + id.view().size() + ts_key.size() + ts.view().size() +
                           room_key.size() + message.room.size() + from_key.size() +
                           message.from.size() + text_key.size() + message.text.size() +
                           text_end.size() + (message.history ? history.size() : 0) + tail.size();
  std::string out(size, '\0');
  char* at = put(out.data(), head);
  at = put(at, id.view());
  at = put(at, ts_key);
  at = put(at, ts.view());
  at = put(at, room_key);
  at = put(at, message.room);
  at = put(at, from_key);
  at = put(at, message.from);
  at = put(at, text_key);
  at = put(at, message.text);
  at = put(at, text_end);
  if (message.history) at = put(at, history);
  put(at, tail);
  return out;
}

bool needs_no_escape(std::string_view text) noexcept {
  return find_json_special(text) == text.size();
}

// Kept out of encode_message, so that the plain form compiles as tightly as
// it did before the JSON one had a fast way of its own.
[[gnu::noinline]] std::string encode_json_message(const message_view& message) {
  if (needs_no_escape(message.text) && needs_no_escape(message.from) &&
      needs_no_escape(message.room)) {
    return encode_unescaped_json_message(message);
  }
  std::string out;
  // Room for every fixed part at its longest; only escapes can outgrow it.
  out.reserve(112 + message.room.size() + message.from.size() + message.text.size());
  out.append(R"({"type":"msg","id":)"sv);
  out.append(decimal(message.id).view());
  out.append(R"(,"ts":)"sv);
  out.append(decimal(message.ts_ms).view());
  out.append(R"(,"room":)"sv);
  append_json_string(out, message.room);
  out.append(R"(,"from":)"sv);
  append_json_string(out, message.from);
  out.append(R"(,"text":)"sv);
  append_json_string(out, message.text);
  if (message.history) out.append(R"(,"history":true)"sv);
  out.append("}\n"sv);
  return out;
}

}  // namespace

std::string encode_message(session_mode mode, const message_view& message) {
  std::string out;
  if (mode == session_mode::plain) {
    out.reserve(24 + message.room.size() + message.from.size() + message.text.size());
    if (message.history) out.append("[history] ");
    // "#" cannot be part of a room name, so "[#dm]" is never "[dm]" or "[history]".
    if (message.plain_names_room) out.append("[#").append(message.room).append("] ");
    out.append(message.from).append(": ").append(message.text).push_back('\n');
    return out;
  }
  return encode_json_message(message);
}

std::string encode_message(session_mode mode, std::uint64_t id, std::int64_t ts_ms,
                           std::string_view room, std::string_view from, std::string_view text) {
  return encode_message(mode, message_view{id, ts_ms, room, from, text});
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

std::string encode_error(session_mode mode, error_code code, std::string_view message,
                         std::uint64_t retry_after_s) {
  const std::string after = std::to_string(retry_after_s);
  if (mode == session_mode::plain) {
    return plain_line("! error ", to_string(code), ": ",
                      std::string(message) + " (try again in " + after + " s)");
  }
  std::string out = encode_error(mode, code, message);
  out.pop_back();  // the LF
  out.pop_back();  // the closing brace
  out.append(R"(,"retry_after":)").append(after).append("}\n");
  return out;
}

std::string encode_account(session_mode mode, std::string_view event, std::string_view user) {
  if (mode == session_mode::plain) {
    if (event == "registered")
      return plain_line("* ", user, " is registered: log in with its password from now on");
    if (event == "password-changed") return plain_line("* the password of ", user, " is changed");
    return plain_line("* ", user, " is no longer registered");
  }
  std::string out(R"({"type":)");
  append_json_string(out, event);
  out.append(R"(,"user":)");
  append_json_string(out, user);
  out.append("}\n");
  return out;
}

std::string encode_shutdown(session_mode mode) {
  if (mode == session_mode::json) return "{\"type\":\"shutdown\",\"reconnect\":true}\n";
  return "* server is shutting down\n";
}

std::string encode_help() {
  return "* commands: /join ROOM, /leave [ROOM], /rooms, /who [ROOM], /topic [TEXT],"
         " /msg NAME TEXT, /nick NAME, /register PASSWORD, /password OLD NEW,"
         " /unregister PASSWORD; operators: /kick NAME [REASON],"
         " /ban NAME|ADDRESS[/PREFIX] [DURATION] [REASON], /unban NAME|ADDRESS,"
         " /mute NAME [DURATION] [REASON], /unmute NAME, /bans, /op NAME, /deop NAME,"
         " /invite NAME, /mode private|public; server operators: /kill NAME [REASON],"
         " /gban NAME|ADDRESS[/PREFIX] [DURATION] [REASON], /gunban NAME|ADDRESS;"
         " /quit, /help; any other line is a message to your"
         " current room (start it with // to send a leading /)\n";
}

std::string encode_ack(std::string_view ref_json, std::uint64_t id) {
  std::string out;
  out.reserve(52 + ref_json.size());
  out.append(R"({"type":"ack","ref":)"sv).append(ref_json);
  out.append(R"(,"id":)"sv);
  out.append(decimal(id).view());
  out.append("}\n"sv);
  return out;
}

std::string encode_not_stored(session_mode mode, std::string_view ref_json) {
  constexpr std::string_view why = "your message was delivered but could not be stored";
  if (mode == session_mode::plain) {
    return plain_line("! error ", to_string(error_code::storage_unavailable), ": ", why);
  }
  std::string out(R"({"type":"error","code":")");
  out.append(to_string(error_code::storage_unavailable)).append(R"(","message":)");
  append_json_string(out, why);
  if (!ref_json.empty()) out.append(R"(,"ref":)").append(ref_json);
  out.append("}\n");
  return out;
}

std::string encode_slow_consumer(session_mode mode, std::uint64_t last_id) {
  const std::string why = "you fell too far behind and were disconnected (last message id " +
                          std::to_string(last_id) + ")";
  if (mode == session_mode::plain) {
    return plain_line("! error ", to_string(error_code::slow_consumer), ": ", why);
  }
  std::string out(R"({"type":"error","code":")");
  out.append(to_string(error_code::slow_consumer)).append(R"(","message":)");
  append_json_string(out, why);
  out.append(R"(,"last_id":)").append(std::to_string(last_id)).append("}\n");
  return out;
}

std::string encode_gap(session_mode mode, std::string_view room, std::uint64_t from,
                       std::uint64_t to) {
  if (mode == session_mode::plain) {
    return "* messages in " + std::string(room) + " after " + std::to_string(from) + " up to " +
           std::to_string(to) + " may be missing\n";
  }
  std::string out(R"({"type":"gap","room":)");
  append_json_string(out, room);
  out.append(R"(,"from":)").append(std::to_string(from));
  out.append(R"(,"to":)").append(std::to_string(to)).append("}\n");
  return out;
}

std::string encode_more(session_mode mode, std::string_view room, std::uint64_t after) {
  if (mode == session_mode::plain) {
    return "* more in " + std::string(room) + ": /resume " + std::string(room) + " " +
           std::to_string(after) + "\n";
  }
  std::string out(R"({"type":"more","room":)");
  append_json_string(out, room);
  out.append(R"(,"after":)").append(std::to_string(after)).append("}\n");
  return out;
}

std::string encode_resume_request(std::string_view room, std::uint64_t after) {
  std::string out(R"({"type":"resume","room":)");
  append_json_string(out, room);
  out.append(R"(,"after":)").append(std::to_string(after)).append("}\n");
  return out;
}

std::string encode_pong() { return "{\"type\":\"pong\"}\n"; }

std::string encode_ping() { return "{\"type\":\"ping\"}\n"; }

std::string encode_joined(session_mode mode, std::string_view room,
                          std::span<const std::string> users, std::string_view topic) {
  return joined(mode, room, listed(users), topic);
}

std::string encode_joined(session_mode mode, std::string_view room, member_count members,
                          std::string_view topic) {
  return joined(mode, room, counted(members.value), topic);
}

std::string encode_left(session_mode mode, std::string_view room) {
  if (mode == session_mode::plain) return plain_line("* you left ", room);
  std::string out(R"({"type":"left","room":)");
  append_json_string(out, room);
  out.append("}\n");
  return out;
}

std::string encode_rooms(session_mode mode, std::span<const room_summary> rooms) {
  std::string out;
  if (mode == session_mode::json) {
    out.append(R"({"type":"rooms","rooms":[)");
    for (std::size_t i = 0; i < rooms.size(); ++i) {
      if (i != 0) out.push_back(',');
      out.append(R"({"room":)");
      append_json_string(out, rooms[i].name);
      out.append(R"(,"users":)").append(std::to_string(rooms[i].users));
      append_json_topic(out, rooms[i].topic);
      out.push_back('}');
    }
    out.append("]}\n");
  } else {
    out.append("* rooms:");
    for (std::size_t i = 0; i < rooms.size(); ++i) {
      out.append(i == 0 ? " " : ", ").append(rooms[i].name);
      out.append(" (").append(std::to_string(rooms[i].users)).append(")");
    }
    out.push_back('\n');
  }
  return out;
}

std::string encode_topic(session_mode mode, std::string_view room, std::string_view text,
                         std::string_view by) {
  if (mode == session_mode::plain) {
    if (by.empty()) return plain_line("* topic of ", room, ": ", text.empty() ? "(none)" : text);
    if (text.empty()) return plain_line("* ", by, " cleared the topic of ", room);
    return plain_line("* ", by, " set the topic of ", std::string(room) + ": " + std::string(text));
  }
  std::string out(R"({"type":"topic","room":)");
  append_json_string(out, room);
  out.append(R"(,"text":)");
  append_json_string(out, text);
  if (!by.empty()) {
    out.append(R"(,"by":)");
    append_json_string(out, by);
  }
  out.append("}\n");
  return out;
}

std::string encode_direct(session_mode mode, std::uint64_t id, std::int64_t ts_ms,
                          std::string_view from, std::string_view to, std::string_view text) {
  if (mode == session_mode::plain) return plain_line("[dm] ", from, ": ", text);
  std::string out;
  out.reserve(96 + from.size() + to.size() + text.size());
  out.append(R"({"type":"dm","id":)"sv);
  out.append(decimal(id).view());
  out.append(R"(,"ts":)"sv);
  out.append(decimal(ts_ms).view());
  out.append(R"(,"from":)"sv);
  append_json_string(out, from);
  out.append(R"(,"to":)"sv);
  append_json_string(out, to);
  out.append(R"(,"text":)"sv);
  append_json_string(out, text);
  out.append("}\n"sv);
  return out;
}

std::string encode_nick(session_mode mode, std::string_view old_name, std::string_view new_name) {
  if (mode == session_mode::plain) return plain_line("* ", old_name, " is now known as ", new_name);
  std::string out(R"({"type":"nick","old":)");
  append_json_string(out, old_name);
  out.append(R"(,"new":)");
  append_json_string(out, new_name);
  out.append("}\n");
  return out;
}

std::string encode_history_page(std::string_view room, std::span<const message_view> messages) {
  std::string out(R"({"type":"history","room":)");
  append_json_string(out, room);
  out.append(R"(,"messages":[)");
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.append(R"({"id":)").append(std::to_string(messages[i].id));
    out.append(R"(,"ts":)").append(std::to_string(messages[i].ts_ms));
    out.append(R"(,"from":)");
    append_json_string(out, messages[i].from);
    out.append(R"(,"text":)");
    append_json_string(out, messages[i].text);
    out.push_back('}');
  }
  out.append("]}\n");
  return out;
}

std::string encode_hello_request(std::string_view user, std::string_view password) {
  std::string out(R"({"type":"hello","user":)");
  append_json_string(out, user);
  if (!password.empty()) {
    out.append(R"(,"password":)");
    append_json_string(out, password);
  }
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
