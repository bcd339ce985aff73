#include "client/render.hpp"

#include <ctime>

namespace chat::client {

namespace {

// Text from the network may carry terminal control sequences (ESC [ ... can
// move the cursor, recolour or retitle the terminal): show each control
// character as U+FFFD instead. Tabs are harmless and kept.
std::string printable(std::string_view text) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const bool c0 = (byte < 0x20 && byte != '\t') || byte == 0x7f;
    // C1 controls, U+0080..U+009F, are C2 80..C2 9F in UTF-8.
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0u;
    const bool c1 = byte == 0xc2 && next >= 0x80 && next <= 0x9f;
    if (c0) {
      out.append(replacement);
    } else if (c1) {
      out.append(replacement);
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out.append(", ");
    out.append(name);
  }
  return out;
}

// "[HH:MM] " in local time; the server stamps in UTC milliseconds. History
// may be days old (--data-dir keeps it across restarts): with `dated`, a
// stamp from another day than today says which day.
std::string clock_prefix(std::int64_t ts_ms, bool dated = false) {
  const std::time_t seconds = static_cast<std::time_t>(ts_ms / 1000);
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  std::tm today{};
  if (::localtime_r(&seconds, &local) == nullptr || ::localtime_r(&now, &today) == nullptr) {
    return {};
  }
  const bool same_day = local.tm_year == today.tm_year && local.tm_yday == today.tm_yday;
  const char* format = dated && !same_day ? "[%Y-%m-%d %H:%M] " : "[%H:%M] ";
  char text[32];
  if (std::strftime(text, sizeof text, format, &local) == 0) return {};
  return text;
}

// "[#dev] " for a room other than the current one: an unmarked line is from
// where the next line typed will go. "#" is never part of a room name, so a
// room called dm or history cannot pass for a direct message or history.
std::string room_marker(std::string_view room, const session_state& where) {
  if (where.is_current(room)) return {};
  return "[#" + std::string(room) + "] ";
}

std::string history_line(std::int64_t ts_ms, std::string_view room, std::string_view from,
                         std::string_view text, const session_state& where) {
  return "[history] " + clock_prefix(ts_ms, /*dated=*/true) + room_marker(room, where) +
         std::string(from) + ": " + std::string(text);
}

// "ROOM with: a, b", or for a large room "ROOM with 5000 members (/who lists them)".
std::string room_members(const server_event& event) {
  if (event.users.empty() && event.member_count != 0) {
    return event.room + " with " + std::to_string(event.member_count) +
           " members (/who lists them)";
  }
  return event.room + " with: " + join_names(event.users);
}

std::string topic_suffix(std::string_view topic) {
  if (topic.empty()) return {};
  return "; topic: " + std::string(topic);
}

std::string describe_rooms(const std::vector<room_entry>& rooms) {
  if (rooms.empty()) return "* rooms: (none)";
  std::string out = "* rooms:";
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    out.append(i == 0 ? " " : ", ").append(rooms[i].room);
    out.append(" (").append(std::to_string(rooms[i].users));
    if (!rooms[i].topic.empty()) out.append("; topic: ").append(rooms[i].topic);
    out.append(")");
  }
  return out;
}

std::string describe_topic(const server_event& event) {
  if (event.by.empty()) {
    return "* topic of " + event.room + ": " + (event.topic.empty() ? "(none)" : event.topic);
  }
  if (event.topic.empty()) return "* " + event.by + " cleared the topic of " + event.room;
  return "* " + event.by + " set the topic of " + event.room + ": " + event.topic;
}

std::string describe_left(const server_event& event, const session_state& where) {
  std::string out = "* you left " + event.room;
  if (where.current_room().empty()) {
    out.append("; you are in no room now (/join one)");
  } else {
    out.append("; your current room is ").append(where.current_room());
  }
  return out;
}

// The page's header, then its messages: each line defused on its own, since
// the LF between them must survive.
std::string describe_history(const server_event& event, const session_state& where) {
  const auto count = event.messages.size();
  std::string out =
      printable("* history of " + event.room + ": " +
                (count == 0 ? std::string("no messages")
                            : std::to_string(count) + (count == 1 ? " message" : " messages")));
  for (const auto& m : event.messages) {
    out.push_back('\n');
    out.append(printable(history_line(m.ts_ms, event.room, m.from, m.text, where)));
  }
  return out;
}

std::string describe(const server_event& event, std::string_view frame,
                     const session_state& where) {
  using kind = server_event::kind;
  switch (event.type) {
    case kind::welcome:
      return "* welcome " + event.user + ", you are in " + room_members(event) +
             topic_suffix(event.topic) + " (/help lists commands)";
    case kind::join: return "* " + event.user + " joined " + event.room;
    case kind::leave: return "* " + event.user + " left " + event.room;
    case kind::message:
      if (event.history)
        return history_line(event.ts_ms, event.room, event.from, event.text, where);
      return clock_prefix(event.ts_ms) + room_marker(event.room, where) + event.from + ": " +
             event.text;
    case kind::ack: return "* delivered as #" + std::to_string(event.id);
    case kind::users: return "* users in " + event.room + ": " + join_names(event.users);
    case kind::error:
      if (event.retry_after) {
        return "! error " + event.code + ": " + event.text + " (try again in " +
               std::to_string(*event.retry_after) + " s)";
      }
      return "! error " + event.code + ": " + event.text;
    case kind::shutdown: return "* server is shutting down";
    case kind::pong: return "* pong";
    case kind::ping: return "* ping";
    case kind::joined: return "* you joined " + room_members(event) + topic_suffix(event.topic);
    case kind::left: return describe_left(event, where);
    case kind::rooms: return describe_rooms(event.rooms);
    case kind::topic: return describe_topic(event);
    case kind::direct: return clock_prefix(event.ts_ms) + "[dm] " + event.from + ": " + event.text;
    case kind::nick: return "* " + event.from + " is now known as " + event.to;
    case kind::gap:
      return "* messages in " + event.room + " after " + std::to_string(event.from_id) + " up to " +
             std::to_string(event.to_id) + " may be missing";
    case kind::more:
      return "* more in " + event.room + " after " + std::to_string(event.after) +
             " (being fetched)";
    case kind::registered:
      return "* you are registered as " + event.user + ": log in with your password from now on";
    case kind::password_changed: return "* your password for " + event.user + " is changed";
    case kind::unregistered:
      return "* " + event.user + " is no longer registered; you go on as a guest";
    case kind::history: break;  // several lines: see render_event
    case kind::prompt:
    case kind::other: break;
  }
  return std::string(frame);
}

// The start of a message, for a line that has to say which one it was about.
std::string excerpt(std::string_view text) {
  constexpr std::size_t most = 40;
  if (text.size() <= most) return std::string(text);
  std::size_t cut = most;
  // Not in the middle of a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

}  // namespace

std::string render_error_about(const server_event& event, std::string_view room,
                               std::string_view text) {
  return printable("! error " + event.code + ": " + event.text + " (your message to " +
                   std::string(room) + ": \"" + excerpt(text) + "\")");
}

std::string render_event(const server_event& event, std::string_view frame,
                         const session_state& where) {
  if (event.type == server_event::kind::history) return describe_history(event, where);
  return printable(describe(event, frame, where));
}

}  // namespace chat::client
