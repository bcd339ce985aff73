#include "bench/frame_text.hpp"

#include <cstring>

#include "bench/json_fields.hpp"

namespace chat::bench {

classified_frame classify_plain_frame(std::string_view frame) noexcept {
  if (frame.empty()) return {};
  if (frame.front() == '!') return {frame_kind::error, frame};
  if (frame.front() == '*' || frame == "USER") return {frame_kind::control, frame};
  const auto* colon = static_cast<const char*>(std::memchr(frame.data(), ':', frame.size()));
  if (colon == nullptr || colon == frame.data()) return {};
  const auto name_size = static_cast<std::size_t>(colon - frame.data());
  if (name_size + 1 >= frame.size() || frame[name_size + 1] != ' ') return {};
  return {frame_kind::message, frame.substr(name_size + 2)};
}

classified_frame classify_json_frame(std::string_view frame, std::string& scratch) {
  // Joins and leaves outnumber messages while thousands log in: tell them
  // apart by the type at the front and scan nothing else.
  const std::string_view front_type = envelope_type(frame);
  if (!front_type.empty() && front_type != "msg") {
    if (front_type == "error") return {frame_kind::error, frame};
    return {frame_kind::control, frame};
  }
  json_fields fields;
  if (!scan_json_fields(frame, fields) || !fields.has_type) return {};
  std::string_view type = fields.type;
  std::string decoded_type;
  if (fields.type_escaped) {
    if (!unescape_json_string(type, decoded_type)) return {};
    type = decoded_type;
  }
  if (type == "msg") {
    if (!fields.has_text) return {};
    if (!fields.text_escaped) return {frame_kind::message, fields.text};
    if (!unescape_json_string(fields.text, scratch)) return {};
    return {frame_kind::message, scratch};
  }
  if (type == "error") return {frame_kind::error, frame};
  return {frame_kind::control, frame};
}

}  // namespace chat::bench
