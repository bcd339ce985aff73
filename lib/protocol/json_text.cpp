#include "protocol/json_text.hpp"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace chat::protocol {

namespace {

bool needs_escape(char c) noexcept {
  return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}

constexpr std::uint64_t every_byte(std::uint8_t value) noexcept {
  return 0x0101010101010101ULL * value;
}

// The high bit set in each byte of `word` below `limit` (at most 0x80). Only
// the lowest set bit is exact (a borrow may mark bytes above a true one),
// which is all a search for the first such byte needs.
constexpr std::uint64_t bytes_below(std::uint64_t word, std::uint8_t limit) noexcept {
  return (word - every_byte(limit)) & ~word & every_byte(0x80);
}

constexpr std::uint64_t bytes_equal(std::uint64_t word, std::uint8_t value) noexcept {
  return bytes_below(word ^ every_byte(value), 1);
}

}  // namespace

// Chat text comes in long runs without any byte to escape: look at sixteen
// bytes at a time where the CPU can, else at eight.
std::size_t find_json_special(std::string_view text, std::size_t pos) noexcept {
  const char* const data = text.data();
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i last_control = _mm_set1_epi8(0x1F);
  while (text.size() - pos >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
    // Unsigned min: a byte is a control character when min(byte, 0x1F) is itself.
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, last_control), chunk);
    const __m128i special = _mm_or_si128(
        control, _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)));
    const auto found = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (found != 0) return pos + static_cast<std::size_t>(std::countr_zero(found));
    pos += 16;
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    while (text.size() - pos >= 8) {
      std::uint64_t word;
      std::memcpy(&word, data + pos, sizeof word);
      const std::uint64_t special =
          bytes_below(word, 0x20) | bytes_equal(word, '"') | bytes_equal(word, '\\');
      if (special != 0) return pos + static_cast<std::size_t>(std::countr_zero(special) / 8);
      pos += 8;
    }
  }
  while (pos < text.size() && !needs_escape(data[pos])) ++pos;
  return pos;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = find_json_special(text, 0); i < text.size();
       i = find_json_special(text, run_start)) {
    const char c = text[i];
    out.append(text.data() + run_start, i - run_start);
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
  out.append(text.data() + run_start, text.size() - run_start);
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

namespace chat::protocol {

namespace {

bool is_json_whitespace(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_json_whitespace(std::string_view text, std::size_t pos) noexcept {
  while (pos < text.size() && is_json_whitespace(text[pos])) ++pos;
  return pos;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits of a \u escape starting at `pos` (at the backslash).
std::optional<char32_t> read_u_escape(std::string_view text, std::size_t pos) noexcept {
  if (text.size() - pos < 6 || text[pos] != '\\' || text[pos + 1] != 'u') return std::nullopt;
  char32_t unit = 0;
  for (std::size_t i = pos + 2; i < pos + 6; ++i) {
    const int digit = hex_value(text[i]);
    if (digit < 0) return std::nullopt;
    unit = unit * 16 + static_cast<char32_t>(digit);
  }
  return unit;
}

void append_utf8(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// The escape at `pos` (at the backslash), appended decoded to `out` unless
// `out` is null; the position past it, or 0 when it is not a valid escape (a
// lone surrogate is not: a JSON parser rejects it).
std::size_t read_escape(std::string_view text, std::size_t pos, std::string* out) {
  if (text.size() - pos < 2) return 0;
  char simple = 0;
  switch (text[pos + 1]) {
    case '"': simple = '"'; break;
    case '\\': simple = '\\'; break;
    case '/': simple = '/'; break;
    case 'b': simple = '\b'; break;
    case 'f': simple = '\f'; break;
    case 'n': simple = '\n'; break;
    case 'r': simple = '\r'; break;
    case 't': simple = '\t'; break;
    case 'u': break;
    default: return 0;
  }
  if (simple != 0) {
    if (out != nullptr) out->push_back(simple);
    return pos + 2;
  }
  const auto unit = read_u_escape(text, pos);
  if (!unit || (*unit >= 0xDC00 && *unit <= 0xDFFF)) return 0;
  if (*unit < 0xD800 || *unit > 0xDBFF) {
    if (out != nullptr) append_utf8(*out, *unit);
    return pos + 6;
  }
  const auto low = read_u_escape(text, pos + 6);
  if (!low || *low < 0xDC00 || *low > 0xDFFF) return 0;
  if (out != nullptr) append_utf8(*out, 0x10000 + ((*unit - 0xD800) << 10) + (*low - 0xDC00));
  return pos + 12;
}

// `pos` is at an opening quote; the position past the closing one, or 0 when
// the string is not one a JSON parser takes. Sets `escaped` when it has escapes.
std::size_t read_string(std::string_view text, std::size_t pos, bool& escaped) {
  escaped = false;
  for (pos = find_json_special(text, pos + 1); pos < text.size();
       pos = find_json_special(text, pos)) {
    if (text[pos] == '"') return pos + 1;
    if (text[pos] != '\\') return 0;  // a raw control character
    escaped = true;
    pos = read_escape(text, pos, nullptr);
    if (pos == 0) return 0;
  }
  return 0;
}

// Numbers longer than this are left to the full parser: the longest 64-bit
// integer has 20 digits, and past some hundreds a number stops being finite.
constexpr std::size_t longest_flat_number = 64;

// `pos` is at a '-' or a digit; fills the number fields of `m` and returns the
// position past it, or 0 when this reader does not take it.
std::size_t read_number(std::string_view text, std::size_t pos,
                        flat_json_object::member& m) noexcept {
  const std::size_t start = pos;
  const bool negative = text[pos] == '-';
  if (negative) ++pos;
  if (pos >= text.size() || !is_digit(text[pos])) return 0;
  bool fits = true;
  std::uint64_t value = 0;
  if (text[pos] == '0') {
    ++pos;
  } else {
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
      if (value > (UINT64_MAX - digit) / 10) fits = false;
      value = value * 10 + digit;
    }
  }
  bool integer = true;
  if (pos < text.size() && text[pos] == '.') {
    integer = false;
    ++pos;
    if (pos >= text.size() || !is_digit(text[pos])) return 0;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
  }
  // Whether an exponent leaves the number finite is the full parser's call.
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) return 0;
  if (pos - start > longest_flat_number) return 0;
  m.kind = flat_json_object::value_kind::number;
  m.is_unsigned = !negative && integer && fits;
  m.unsigned_value = m.is_unsigned ? value : 0;
  return pos;
}

std::size_t read_literal(std::string_view text, std::size_t pos) noexcept {
  for (const std::string_view literal : {"true", "false", "null"}) {
    if (text.substr(pos, literal.size()) == literal) return pos + literal.size();
  }
  return 0;
}

}  // namespace

bool flat_json_object::read(std::string_view text) {
  size_ = 0;
  std::size_t pos = skip_json_whitespace(text, 0);
  if (pos >= text.size() || text[pos] != '{') return false;
  pos = skip_json_whitespace(text, pos + 1);
  if (pos < text.size() && text[pos] == '}') {
    return skip_json_whitespace(text, pos + 1) == text.size();
  }
  for (;;) {
    if (pos >= text.size() || text[pos] != '"' || size_ == max_members) return false;
    member& m = members_[size_];
    const std::size_t key_end = find_json_special(text, pos + 1);
    // A key with escapes may spell one of the keys asked for.
    if (key_end >= text.size() || text[key_end] != '"') return false;
    m.key = text.substr(pos + 1, key_end - pos - 1);
    // Which of two equal keys counts is the full parser's business.
    if (find(m.key) != nullptr) return false;
    pos = skip_json_whitespace(text, key_end + 1);
    if (pos >= text.size() || text[pos] != ':') return false;
    pos = skip_json_whitespace(text, pos + 1);
    if (pos >= text.size()) return false;
    const std::size_t value_start = pos;
    m.escaped = false;
    m.is_unsigned = false;
    m.unsigned_value = 0;
    const char first = text[pos];
    if (first == '"') {
      m.kind = value_kind::string;
      pos = read_string(text, pos, m.escaped);
    } else if (first == '-' || is_digit(first)) {
      pos = read_number(text, pos, m);
    } else {
      m.kind = value_kind::literal;
      pos = read_literal(text, pos);
    }
    if (pos == 0) return false;
    m.raw = text.substr(value_start, pos - value_start);
    ++size_;
    pos = skip_json_whitespace(text, pos);
    if (pos >= text.size()) return false;
    if (text[pos] == '}') break;
    if (text[pos] != ',') return false;
    pos = skip_json_whitespace(text, pos + 1);
  }
  return skip_json_whitespace(text, pos + 1) == text.size();
}

std::string flat_json_object::string_value(const member& string_member) {
  std::string out;
  string_value(string_member, out);
  return out;
}

void flat_json_object::string_value(const member& string_member, std::string& out) {
  const std::string_view literal = string_member.raw;
  const std::string_view inside = literal.substr(1, literal.size() - 2);
  if (!string_member.escaped) {
    out.assign(inside);
    return;
  }
  out.clear();
  out.reserve(inside.size());
  std::size_t pos = 0;
  for (;;) {
    const std::size_t special = find_json_special(inside, pos);
    out.append(inside.data() + pos, special - pos);
    if (special >= inside.size()) break;
    // read() accepted this string: every special byte left is a valid escape.
    pos = read_escape(inside, special, &out);
  }
}

}  // namespace chat::protocol
