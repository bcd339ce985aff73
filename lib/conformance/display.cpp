#include "conformance/display.hpp"

#include <algorithm>

#include "protocol/utf8.hpp"

namespace chat::conformance {

namespace {
bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7F;
}
}  // namespace

std::string display(std::string_view bytes) {
  if (protocol::is_valid_utf8(bytes) && std::none_of(bytes.begin(), bytes.end(), is_control)) {
    return std::string(bytes);
  }
  return escaped(bytes);
}

std::string escaped(std::string_view bytes) { return "bytes " + quote(bytes); }

std::string quote(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  // In text that is not UTF-8 every byte above ASCII is suspect, so show them all.
  const bool utf8 = protocol::is_valid_utf8(bytes);
  std::string out = "\"";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': out.append("\\\\"); continue;
      case '"': out.append("\\\""); continue;
      case '\n': out.append("\\n"); continue;
      case '\r': out.append("\\r"); continue;
      case '\t': out.append("\\t"); continue;
      default: break;
    }
    if (is_control(c) || (!utf8 && byte >= 0x80)) {
      out.append("\\x").push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace chat::conformance
