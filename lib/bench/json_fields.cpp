#include "bench/json_fields.hpp"

#include <cstdint>
#include <cstring>

namespace chat::bench {

namespace {

struct cursor {
  const char* at;
  const char* end;
};

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skip_space(cursor& c) noexcept {
  while (c.at < c.end && is_space(*c.at)) ++c.at;
}

// From just after an opening quote to just after the closing one. memchr does
// the walking: a string has no byte to look at other than quotes and
// backslashes.
bool scan_string(cursor& c, std::string_view& raw, bool& escaped) noexcept {
  const char* const start = c.at;
  escaped = false;
  for (;;) {
    const auto* quote = static_cast<const char*>(std::memchr(c.at, '"', c.end - c.at));
    if (quote == nullptr) return false;
    const auto* backslash = static_cast<const char*>(std::memchr(c.at, '\\', quote - c.at));
    if (backslash == nullptr) {
      raw = {start, static_cast<std::size_t>(quote - start)};
      c.at = quote + 1;
      return true;
    }
    escaped = true;
    // The escaped byte may be a quote; \uXXXX digits are never one.
    if (c.end - backslash < 2) return false;
    c.at = backslash + 2;
  }
}

// A nested object or array, from its opening bracket to past its close.
bool skip_nested(cursor& c) noexcept {
  int depth = 0;
  while (c.at < c.end) {
    const char ch = *c.at++;
    if (ch == '"') {
      std::string_view ignored;
      bool escaped;
      if (!scan_string(c, ignored, escaped)) return false;
    } else if (ch == '{' || ch == '[') {
      ++depth;
    } else if (ch == '}' || ch == ']') {
      if (--depth == 0) return true;
    }
  }
  return false;
}

// A number, true, false or null: up to the next delimiter.
bool skip_scalar(cursor& c) noexcept {
  const char* const start = c.at;
  while (c.at < c.end && *c.at != ',' && *c.at != '}' && *c.at != ']' && !is_space(*c.at)) ++c.at;
  return c.at != start;
}

enum class field { other, type, text };

field name_of(std::string_view raw, bool escaped) {
  std::string decoded;
  if (escaped) {
    // Rare: no server has a reason to escape a plain ASCII key.
    if (!unescape_json_string(raw, decoded)) return field::other;
    raw = decoded;
  }
  if (raw == "type") return field::type;
  if (raw == "text") return field::text;
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

std::string_view envelope_type(std::string_view frame) {
  constexpr std::string_view prefix = R"({"type":")";
  if (frame.starts_with(prefix)) {
    const std::string_view rest = frame.substr(prefix.size());
    const std::size_t end = rest.find_first_of("\"\\");
    if (end != std::string_view::npos && rest[end] == '"') return rest.substr(0, end);
  }
  json_fields fields;
  if (!scan_json_fields(frame, fields) || !fields.has_type || fields.type_escaped) return {};
  return fields.type;
}

bool scan_json_fields(std::string_view frame, json_fields& out) {
  out = json_fields{};
  cursor c{frame.data(), frame.data() + frame.size()};
  skip_space(c);
  if (c.at == c.end || *c.at != '{') return false;
  ++c.at;
  skip_space(c);
  if (c.at < c.end && *c.at == '}') {
    ++c.at;
  } else {
    for (;;) {
      if (c.at == c.end || *c.at != '"') return false;
      ++c.at;
      std::string_view key;
      bool key_escaped;
      if (!scan_string(c, key, key_escaped)) return false;
      skip_space(c);
      if (c.at == c.end || *c.at != ':') return false;
      ++c.at;
      skip_space(c);
      if (c.at == c.end) return false;
      if (*c.at == '"') {
        ++c.at;
        std::string_view value;
        bool value_escaped;
        if (!scan_string(c, value, value_escaped)) return false;
        // A repeated key: the last one wins, as with most JSON parsers.
        switch (name_of(key, key_escaped)) {
          case field::type:
            out.type = value, out.type_escaped = value_escaped, out.has_type = true;
            break;
          case field::text:
            out.text = value, out.text_escaped = value_escaped, out.has_text = true;
            break;
          case field::other: break;
        }
      } else {
        const bool skipped = (*c.at == '{' || *c.at == '[') ? skip_nested(c) : skip_scalar(c);
        if (!skipped) return false;
        // A key of ours bound to a non-string is no string field at all.
        switch (name_of(key, key_escaped)) {
          case field::type: out.has_type = false; break;
          case field::text: out.has_text = false; break;
          case field::other: break;
        }
      }
      skip_space(c);
      if (c.at == c.end) return false;
      if (*c.at == ',') {
        ++c.at;
        skip_space(c);
        continue;
      }
      if (*c.at != '}') return false;
      ++c.at;
      break;
    }
  }
  skip_space(c);
  return c.at == c.end;
}

}  // namespace chat::bench
