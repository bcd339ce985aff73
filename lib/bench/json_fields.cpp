#include "bench/json_fields.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

namespace chat::bench {

namespace {

// The helpers below take the position and the end and return the new
// position, or nullptr when the frame is not JSON: positions stay in
// registers, where a cursor passed by reference would be written back to
// memory at every byte.

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

const char* skip_space(const char* at, const char* end) noexcept {
  // Servers rarely put spaces between tokens: one comparison settles most.
  while (at < end && static_cast<unsigned char>(*at) <= ' ' && is_space(*at)) ++at;
  return at;
}

// The first '"' in [at, end), or end. Eight bytes at a time: a message
// frame is a dozen strings, and calling memchr for each costs more than
// the strings are long.
const char* find_quote(const char* at, const char* end) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101;
    constexpr std::uint64_t highs = 0x8080808080808080;
    constexpr std::uint64_t quotes = ones * '"';
    while (end - at >= 8) {
      std::uint64_t word;
      std::memcpy(&word, at, sizeof word);
      // A byte of x is zero where the frame has a quote. The lowest flagged
      // byte is always a true one (only bytes after a zero can be flagged by
      // mistake), and it is the first in memory on a little-endian machine.
      const std::uint64_t x = word ^ quotes;
      const std::uint64_t found = (x - ones) & ~x & highs;
      if (found != 0) return at + (std::countr_zero(found) >> 3);
      at += sizeof word;
    }
    while (at < end && *at != '"') ++at;
    return at;
  } else {
    const auto* quote = static_cast<const char*>(std::memchr(at, '"', end - at));
    return quote == nullptr ? end : quote;
  }
}

// From just after an opening quote to just after the closing one: the first
// quote not escaped by an odd run of backslashes before it.
const char* scan_string(const char* at, const char* end, std::string_view& raw) noexcept {
  const char* const start = at;
  for (;;) {
    const char* const quote = find_quote(at, end);
    if (quote == end) return nullptr;
    const char* run = quote;
    while (run > start && run[-1] == '\\') --run;
    at = quote + 1;
    if ((quote - run) % 2 == 0) {
      raw = {start, static_cast<std::size_t>(quote - start)};
      return at;
    }
  }
}

bool has_escape(std::string_view raw) noexcept {
  return std::memchr(raw.data(), '\\', raw.size()) != nullptr;
}

// A nested object or array, from its opening bracket to past its close.
const char* skip_nested(const char* at, const char* end) noexcept {
  int depth = 0;
  while (at < end) {
    const char ch = *at++;
    if (ch == '"') {
      std::string_view ignored;
      at = scan_string(at, end, ignored);
      if (at == nullptr) return nullptr;
    } else if (ch == '{' || ch == '[') {
      ++depth;
    } else if (ch == '}' || ch == ']') {
      if (--depth == 0) return at;
    }
  }
  return nullptr;
}

// A number, true, false or null: up to the next delimiter. Digits first, in
// a loop of their own: ids and timestamps are most of what is skipped.
const char* skip_scalar(const char* at, const char* end) noexcept {
  const char* const start = at;
  while (at < end && static_cast<unsigned char>(*at - '0') < 10) ++at;
  while (at < end && *at != ',' && *at != '}' && *at != ']' && !is_space(*at)) ++at;
  return at == start ? nullptr : at;
}

enum class field { other, type, text };

field name_of(std::string_view raw) {
  if (raw.size() == 4) {
    if (raw == "type") return field::type;
    if (raw == "text") return field::text;
    return field::other;
  }
  // An escaped spelling of a four-letter key is 5 to 24 bytes long. Rare: no
  // server has a reason to escape a plain ASCII key.
  if (raw.size() < 5 || raw.size() > 24 || !has_escape(raw)) return field::other;
  std::string decoded;
  if (!unescape_json_string(raw, decoded)) return field::other;
  if (decoded == "type") return field::type;
  if (decoded == "text") return field::text;
  return field::other;
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

bool read_hex4(std::string_view raw, std::size_t at, std::uint32_t& value) noexcept {
  if (raw.size() < at + 4) return false;
  value = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    const char c = raw[i];
    value <<= 4;
    if (c >= '0' && c <= '9') value |= static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') value |= static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') value |= static_cast<std::uint32_t>(c - 'A' + 10);
    else return false;
  }
  return true;
}

}  // namespace

bool unescape_json_string(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == raw.size()) return false;
    switch (raw[i]) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        std::uint32_t code;
        if (!read_hex4(raw, i + 1, code)) return false;
        i += 4;
        if (code >= 0xD800 && code < 0xDC00) {
          std::uint32_t low;
          if (raw.size() < i + 3 || raw[i + 1] != '\\' || raw[i + 2] != 'u' ||
              !read_hex4(raw, i + 3, low) || low < 0xDC00 || low > 0xDFFF) {
            return false;
          }
          i += 6;
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code < 0xE000) {
          return false;
        }
        append_utf8(out, code);
        break;
      }
      default: return false;
    }
  }
  return true;
}

std::string_view leading_type(std::string_view frame) noexcept {
  constexpr std::string_view prefix = R"({"type":")";
  if (!frame.starts_with(prefix)) return {};
  const char* const start = frame.data() + prefix.size();
  const char* const end = frame.data() + frame.size();
  const char* at = start;
  while (at < end && *at != '"' && *at != '\\') ++at;
  if (at == end || *at != '"') return {};
  return {start, static_cast<std::size_t>(at - start)};
}

std::string_view envelope_type(std::string_view frame) {
  if (const std::string_view type = leading_type(frame); !type.empty()) return type;
  json_fields fields;
  if (!scan_json_fields(frame, fields) || !fields.has_type || fields.type_escaped) return {};
  return fields.type;
}

bool scan_json_fields(std::string_view frame, json_fields& out) {
  out = json_fields{};
  const char* at = frame.data();
  const char* const end = at + frame.size();
  at = skip_space(at, end);
  if (at == end || *at != '{') return false;
  at = skip_space(at + 1, end);
  if (at < end && *at == '}') {
    ++at;
  } else {
    for (;;) {
      if (at == end || *at != '"') return false;
      std::string_view key;
      at = scan_string(at + 1, end, key);
      if (at == nullptr) return false;
      at = skip_space(at, end);
      if (at == end || *at != ':') return false;
      at = skip_space(at + 1, end);
      if (at == end) return false;
      const field which = name_of(key);
      if (*at == '"') {
        std::string_view value;
        at = scan_string(at + 1, end, value);
        if (at == nullptr) return false;
        // A repeated key: the last one wins, as with most JSON parsers.
        if (which == field::type) {
          out.type = value, out.type_escaped = has_escape(value), out.has_type = true;
        } else if (which == field::text) {
          out.text = value, out.text_escaped = has_escape(value), out.has_text = true;
        }
      } else {
        at = (*at == '{' || *at == '[') ? skip_nested(at, end) : skip_scalar(at, end);
        if (at == nullptr) return false;
        // A key of ours bound to a non-string is no string field at all.
        if (which == field::type) out.has_type = false;
        if (which == field::text) out.has_text = false;
      }
      at = skip_space(at, end);
      if (at == end) return false;
      if (*at == ',') {
        at = skip_space(at + 1, end);
        continue;
      }
      if (*at != '}') return false;
      ++at;
      break;
    }
  }
  return skip_space(at, end) == end;
}

}  // namespace chat::bench
