#include "protocol/json_text.hpp"

namespace chat::protocol {

namespace {
bool needs_escape(char c) noexcept {
  return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}
}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!needs_escape(c)) continue;
    out.append(text.substr(run_start, i - run_start));
    run_start = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default: {
        const auto byte = static_cast<unsigned char>(c);
        const char escape[] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0xF]};
        out.append(escape, sizeof escape);
      }
    }
  }
  out.append(text.substr(run_start));
  out.push_back('"');
}

}  // namespace chat::protocol

namespace chat::protocol {

namespace {

constexpr std::string_view json_whitespace = " \t\r\n";

std::size_t skip_whitespace(std::string_view text, std::size_t pos) {
  const std::size_t next = text.find_first_not_of(json_whitespace, pos);
  return next == std::string_view::npos ? text.size() : next;
}

// `pos` is at an opening quote; returns the position just past the closing one.
std::size_t skip_string(std::string_view text, std::size_t pos) {
  for (++pos; pos < text.size(); ++pos) {
    if (text[pos] == '\\') {
      ++pos;
    } else if (text[pos] == '"') {
      return pos + 1;
    }
  }
  return text.size();
}

// `pos` is at the first character of a value; returns the position past it.
std::size_t skip_value(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return pos;
  if (text[pos] == '"') return skip_string(text, pos);
  if (text[pos] == '{' || text[pos] == '[') {
    int depth = 0;
    while (pos < text.size()) {
      const char c = text[pos];
      if (c == '"') {
        pos = skip_string(text, pos);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      ++pos;
      if (depth == 0) break;
    }
    return pos;
  }
  const std::size_t end = text.find_first_of(",}] \t\r\n", pos);
  return end == std::string_view::npos ? text.size() : end;
}

// Compares a raw JSON string literal (quotes included) with `key`. Keys
// written with escapes are compared escaped, so "r\u0065f" is not "ref":
// the server only ever asks for plain ASCII keys.
bool literal_equals(std::string_view literal, std::string_view key) {
  return literal.size() == key.size() + 2 && literal.substr(1, key.size()) == key;
}

}  // namespace

std::optional<std::string_view> raw_member(std::string_view object_text, std::string_view key) {
  std::optional<std::string_view> found;
  std::size_t pos = skip_whitespace(object_text, 0);
  if (pos >= object_text.size() || object_text[pos] != '{') return found;
  pos = skip_whitespace(object_text, pos + 1);
  while (pos < object_text.size() && object_text[pos] == '"') {
    const std::size_t key_end = skip_string(object_text, pos);
    const std::string_view literal = object_text.substr(pos, key_end - pos);
    pos = skip_whitespace(object_text, key_end);
    if (pos >= object_text.size() || object_text[pos] != ':') break;
    const std::size_t value_start = skip_whitespace(object_text, pos + 1);
    const std::size_t value_end = skip_value(object_text, value_start);
    // The last duplicate wins, as it does for the parsed object.
    if (literal_equals(literal, key)) {
      found = object_text.substr(value_start, value_end - value_start);
    }
    pos = skip_whitespace(object_text, value_end);
    if (pos >= object_text.size() || object_text[pos] != ',') break;
    pos = skip_whitespace(object_text, pos + 1);
  }
  return found;
}

}  // namespace chat::protocol
