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

// "[HH:MM] " in local time; the server stamps in UTC milliseconds.
std::string clock_prefix(std::int64_t ts_ms) {
  const std::time_t seconds = static_cast<std::time_t>(ts_ms / 1000);
  std::tm local{};
  char text[16];
  if (::localtime_r(&seconds, &local) == nullptr ||
      std::strftime(text, sizeof text, "[%H:%M] ", &local) == 0) {
    return {};
  }
  return text;
}

std::string describe(const server_event& event, std::string_view frame) {
  using kind = server_event::kind;
  switch (event.type) {
    case kind::welcome:
      return "* welcome " + event.user + ", you are in " + event.room +
             " with: " + join_names(event.users) + " (/help lists commands)";
    case kind::join:
      return "* " + event.user + " joined " + event.room;
    case kind::leave:
      return "* " + event.user + " left " + event.room;
    case kind::message:
      return clock_prefix(event.ts_ms) + event.from + ": " + event.text;
    case kind::ack:
      return "* delivered as #" + std::to_string(event.id);
    case kind::users:
      return "* users in " + event.room + ": " + join_names(event.users);
    case kind::error:
      return "! error " + event.code + ": " + event.text;
    case kind::shutdown:
      return "* server is shutting down";
    case kind::pong:
      return "* pong";
    case kind::prompt:
    case kind::other:
      break;
  }
  return std::string(frame);
}

}  // namespace

std::string render_event(const server_event& event, std::string_view frame) {
  return printable(describe(event, frame));
}

}  // namespace chat::client
