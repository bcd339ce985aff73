// is_valid_utf8 (eight ASCII bytes at a time, then byte ranges per lead
// byte) against the definition of RFC 3629 written out the slow way: decode
// each sequence, then refuse overlongs, surrogates and code points past
// U+10FFFF.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_input.hpp"
#include "protocol/utf8.hpp"

namespace {

bool reference_valid(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length;
    char32_t code_point;
    char32_t smallest;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, smallest = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < smallest || code_point > 0x10FFFF) return false;
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;
    i += length;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = chat::fuzz::as_text(data, size);
  const bool valid = chat::protocol::is_valid_utf8(text);
  chat::fuzz::require(valid == reference_valid(text), "is_valid_utf8 agrees with RFC 3629", text);
  // Every suffix too: the eight-byte skip starts at a different alignment.
  if (!text.empty()) {
    const std::string_view tail = text.substr(1);
    chat::fuzz::require(chat::protocol::is_valid_utf8(tail) == reference_valid(tail),
                        "is_valid_utf8 agrees with RFC 3629 (suffix)", tail);
  }
  return 0;
}
