#include "protocol/moderation_event.hpp"

#include <algorithm>

#include "protocol/json_text.hpp"

namespace chat::protocol {

namespace {

void append_json_member(std::string& out, std::string_view key, std::string_view value) {
  out.append(",\"").append(key).append("\":");
  append_json_string(out, value);
}

// Names a ban's target in JSON as "target", anything else's as "user".
bool names_target(std::string_view type) { return type == "banned" || type == "unbanned"; }

std::string plain(const moderation_event& e) {
  const std::string room(e.room);
  const std::string target(e.target);
  const std::string by(e.by);
  const std::string where_from = e.room.empty() ? "the server" : room;
  std::string out = "* ";
  if (e.type == "kicked") {
    out +=
        target + (e.room.empty() ? " was disconnected" : " was kicked from " + room) + " by " + by;
  } else if (e.type == "banned") {
    out += target + " was banned from " + where_from + " by " + by;
  } else if (e.type == "unbanned") {
    out += target + " was unbanned from " + where_from + " by " + by;
  } else if (e.type == "muted") {
    out += target + " was muted in " + room + " by " + by;
  } else if (e.type == "unmuted") {
    out += target + " was unmuted in " + room + " by " + by;
  } else if (e.type == "op") {
    out += by + " made " + target + " an operator of " + room;
  } else if (e.type == "deop") {
    out += by + " took operator of " + room + " from " + target;
  } else if (e.type == "invited") {
    out += by + " invited " + target + " to " + room;
  } else if (e.type == "mode") {
    out += by + " made " + room + (e.private_room ? " private" : " public");
  }
  if (e.until_ms) out += " for " + std::to_string(e.duration_s) + " s";
  if (!e.reason.empty()) out.append(" (").append(e.reason).append(")");
  out.push_back('\n');
  return out;
}

}  // namespace

std::string encode_moderation(session_mode mode, const moderation_event& e) {
  if (mode == session_mode::plain) return plain(e);
  std::string out = R"({"type":)";
  append_json_string(out, e.type);
  if (!e.room.empty()) append_json_member(out, "room", e.room);
  if (!e.target.empty())
    append_json_member(out, names_target(e.type) ? "target" : "user", e.target);
  append_json_member(out, "by", e.by);
  if (e.type == "mode") append_json_member(out, "mode", e.private_room ? "private" : "public");
  if (e.until_ms) out.append(R"(,"until":)").append(std::to_string(*e.until_ms));
  if (!e.reason.empty()) append_json_member(out, "reason", e.reason);
  out.append("}\n");
  return out;
}

std::string encode_bans(session_mode mode, std::string_view room, std::span<const ban_entry> bans,
                        std::int64_t now_ms) {
  std::string out;
  if (mode == session_mode::json) {
    out.append(R"({"type":"bans","room":)");
    append_json_string(out, room);
    out.append(R"(,"bans":[)");
    for (std::size_t i = 0; i < bans.size(); ++i) {
      const ban_entry& b = bans[i];
      out.append(i == 0 ? "{" : ",{").append(R"("target":)");
      append_json_string(out, b.target);
      append_json_member(out, "by", b.by);
      if (b.until_ms) out.append(R"(,"until":)").append(std::to_string(*b.until_ms));
      if (!b.reason.empty()) append_json_member(out, "reason", b.reason);
      if (b.global) out.append(R"(,"global":true)");
      out.push_back('}');
    }
    out.append("]}\n");
    return out;
  }
  out.append("* bans in ").append(room).append(":");
  if (bans.empty()) out.append(" none");
  for (std::size_t i = 0; i < bans.size(); ++i) {
    const ban_entry& b = bans[i];
    out.append(i == 0 ? " " : ", ").append(b.target).append(" (");
    if (b.global) out.append("server-wide, ");
    out.append("by ").append(b.by);
    if (b.until_ms) {
      const std::int64_t left = std::max<std::int64_t>(1, (*b.until_ms - now_ms + 999) / 1000);
      out.append(", ").append(std::to_string(left)).append(" s left");
    }
    if (!b.reason.empty()) out.append(": ").append(b.reason);
    out.push_back(')');
  }
  out.push_back('\n');
  return out;
}

}  // namespace chat::protocol
