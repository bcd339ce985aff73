#include "bench/frame_text.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

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

namespace {

// Takes `literal` from the front of [at, end); nullptr if it is not there.
const char* expect(const char* at, const char* end, std::string_view literal) noexcept {
  if (static_cast<std::size_t>(end - at) < literal.size() ||
      std::memcmp(at, literal.data(), literal.size()) != 0) {
    return nullptr;
  }
  return at + literal.size();
}

const char* skip_digits(const char* at, const char* end) noexcept {
  const char* const start = at;
  while (at < end && static_cast<unsigned char>(*at - '0') < 10) ++at;
  return at == start ? nullptr : at;
}

// Up to the closing quote of a string without escapes; nullptr when the
// string has a backslash or no end. Eight bytes at a time, as in the scan.
const char* skip_plain_string(const char* at, const char* end) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101;
    constexpr std::uint64_t highs = 0x8080808080808080;
    while (end - at >= 8) {
      std::uint64_t word;
      std::memcpy(&word, at, sizeof word);
      const std::uint64_t quote = word ^ (ones * '"');
      const std::uint64_t backslash = word ^ (ones * '\\');
      const std::uint64_t found =
          ((quote - ones) & ~quote & highs) | ((backslash - ones) & ~backslash & highs);
      if (found != 0) {
        at += std::countr_zero(found) >> 3;
        return *at == '"' ? at : nullptr;
      }
      at += sizeof word;
    }
  }
  while (at < end && *at != '"' && *at != '\\') ++at;
  return (at < end && *at == '"') ? at : nullptr;
}

// The text of a message frame laid out exactly as our server writes it,
//   {"type":"msg","id":N,"ts":N,"room":"…","from":"…","text":"…"}
// with no escapes in the strings. Every byte is checked, so a match is a
// JSON object whose "text" is the one returned; anything else (another
// server, another field order, escapes, a history replay) gets nullopt and
// the general scan. It costs a fraction of the scan, and messages are what
// a receiver spends its time on.
std::optional<std::string_view> text_of_server_message(std::string_view frame) noexcept {
  const char* at = frame.data();
  const char* const end = at + frame.size();
  if (!(at = expect(at, end, R"({"type":"msg","id":)"))) return std::nullopt;
  if (!(at = skip_digits(at, end))) return std::nullopt;
  if (!(at = expect(at, end, R"(,"ts":)"))) return std::nullopt;
  if (at < end && *at == '-') ++at;
  if (!(at = skip_digits(at, end))) return std::nullopt;
  if (!(at = expect(at, end, R"(,"room":")"))) return std::nullopt;
  if (!(at = skip_plain_string(at, end))) return std::nullopt;
  if (!(at = expect(at, end, R"(","from":")"))) return std::nullopt;
  if (!(at = skip_plain_string(at, end))) return std::nullopt;
  if (!(at = expect(at, end, R"(","text":")"))) return std::nullopt;
  const char* const text = at;
  if (!(at = skip_plain_string(at, end))) return std::nullopt;
  if (end - at != 2 || at[1] != '}') return std::nullopt;
  return std::string_view(text, static_cast<std::size_t>(at - text));
}

const char* take_number(const char* at, const char* end, std::uint64_t& value) noexcept {
  const char* const digits_end = skip_digits(at, end);
  if (digits_end == nullptr || digits_end - at > 19) return nullptr;
  value = 0;
  for (; at < digits_end; ++at) value = value * 10 + static_cast<unsigned>(*at - '0');
  return digits_end;
}

// An ack as our server writes it, {"type":"ack","ref":N,"id":N}, read
// without a parser; any other shape goes to the JSON parser (acks are few:
// one per message a sender asked for one).
classified_frame classify_ack(std::string_view frame) {
  const char* at = frame.data();
  const char* const end = at + frame.size();
  std::uint64_t ref = 0, id = 0;
  if ((at = expect(at, end, R"({"type":"ack","ref":)")) && (at = take_number(at, end, ref)) &&
      (at = expect(at, end, R"(,"id":)")) && (at = take_number(at, end, id)) && end - at == 1 &&
      *at == '}') {
    return {frame_kind::ack, {}, ref};
  }
  const auto parsed = nlohmann::json::parse(frame, nullptr, false);
  if (!parsed.is_object()) return {};
  const auto found = parsed.find("ref");
  if (found == parsed.end() || !found->is_number_unsigned()) return {};
  return {frame_kind::ack, {}, found->get<std::uint64_t>()};
}

}  // namespace

classified_frame classify_json_frame(std::string_view frame, std::string& scratch) {
  if (const auto text = text_of_server_message(frame)) return {frame_kind::message, *text};
  // Joins and leaves outnumber messages while thousands log in: tell them
  // apart by the type at the front and scan nothing else. Messages, and
  // frames of another shape, are scanned whole.
  const std::string_view front_type = leading_type(frame);
  if (!front_type.empty() && front_type != "msg") {
    if (front_type == "error") return {frame_kind::error, frame};
    if (front_type == "ack") return classify_ack(frame);
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
  if (type == "ack") return classify_ack(frame);
  return {frame_kind::control, frame};
}

}  // namespace chat::bench
