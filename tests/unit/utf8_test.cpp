#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "protocol/utf8.hpp"

namespace {

using chat::protocol::is_valid_utf8;

struct sample {
  const char* what;
  std::string bytes;
};

// Sequences at the edges of each encoded length and of each forbidden range.
const sample valid_samples[] = {
    {"empty", ""},
    {"ASCII", "hello, world"},
    {"NUL and DEL are ASCII", std::string("a\0b\x7f", 4)},
    {"U+0080, smallest 2-byte", "\xC2\x80"},
    {"U+00E9", "\xC3\xA9"},
    {"U+07FF, largest 2-byte", "\xDF\xBF"},
    {"U+0800, smallest 3-byte", "\xE0\xA0\x80"},
    {"U+20AC", "\xE2\x82\xAC"},
    {"U+D7FF, just below the surrogates", "\xED\x9F\xBF"},
    {"U+E000, just above the surrogates", "\xEE\x80\x80"},
    {"U+FFFF, largest 3-byte", "\xEF\xBF\xBF"},
    {"U+10000, smallest 4-byte", "\xF0\x90\x80\x80"},
    {"U+1D11E", "\xF0\x9D\x84\x9E"},
    {"U+10FFFF, largest code point", "\xF4\x8F\xBF\xBF"},
    {"mixed text", "caf\xC3\xA9 \xE2\x82\xAC 5 \xF0\x9F\x99\x82!"},
};

const sample invalid_samples[] = {
    {"overlong NUL", "\xC0\x80"},
    {"overlong 2-byte, lead C1", "\xC1\xBF"},
    {"overlong 3-byte for U+007F", "\xE0\x81\xBF"},
    {"overlong 3-byte for U+07FF", "\xE0\x9F\xBF"},
    {"overlong 4-byte for U+FFFF", "\xF0\x8F\xBF\xBF"},
    {"surrogate U+D800", "\xED\xA0\x80"},
    {"surrogate U+DFFF", "\xED\xBF\xBF"},
    {"U+110000, above the last code point", "\xF4\x90\x80\x80"},
    {"lead F5", "\xF5\x80\x80\x80"},
    {"lead F8, old 5-byte form", "\xF8\x88\x80\x80\x80"},
    {"byte FE", "\xFE"},
    {"byte FF", "\xFF"},
    {"stray continuation 80", "\x80"},
    {"stray continuation BF", "\xBF"},
    {"one continuation too many", "\xC3\xA9\xA9"},
    {"truncated 2-byte", "\xC3"},
    {"truncated 3-byte", "\xE2\x82"},
    {"truncated 4-byte", "\xF0\x9D\x84"},
    {"truncated 3-byte followed by ASCII 'A'", "\xE2\x82\x41"},
    {"bad second byte", "\xE2\x28\xA1"},
    {"bad third byte", "\xE2\x82\x28"},
    {"bad fourth byte", "\xF0\x9D\x84\x28"},
    {"lead followed by a lead", "\xC3\xC3\xA9"},
};

// The validator skips ASCII eight bytes at a time. Placing a sequence at
// every offset inside and around an ASCII run exercises the word-at-a-time
// loop, its tail, and the byte-wise path on both sides of every boundary.
void check_at_every_offset(const sample& s, bool expected) {
  for (std::size_t before = 0; before <= 17; ++before) {
    for (const std::size_t after : {0, 1, 7, 8, 9, 24}) {
      const std::string text = std::string(before, 'a') + s.bytes + std::string(after, 'z');
      INFO(s.what << " after " << before << " and before " << after << " ASCII bytes");
      CHECK(is_valid_utf8(text) == expected);
    }
  }
}

}  // namespace

TEST_CASE("is_valid_utf8 accepts well-formed UTF-8", "[utf8]") {
  for (const sample& s : valid_samples) {
    INFO(s.what);
    CHECK(is_valid_utf8(s.bytes));
  }
}

TEST_CASE("is_valid_utf8 rejects overlongs, surrogates, > U+10FFFF, truncation, stray bytes",
          "[utf8]") {
  for (const sample& s : invalid_samples) {
    INFO(s.what);
    CHECK_FALSE(is_valid_utf8(s.bytes));
  }
}

TEST_CASE("is_valid_utf8 gives the same verdict wherever a sequence sits in ASCII", "[utf8]") {
  for (const sample& s : valid_samples) check_at_every_offset(s, true);
  for (const sample& s : invalid_samples) check_at_every_offset(s, false);
}

TEST_CASE("is_valid_utf8 finds a single bad byte anywhere in a long ASCII run", "[utf8]") {
  std::string text(1000, 'q');
  REQUIRE(is_valid_utf8(text));
  for (std::size_t i = 0; i < text.size(); ++i) {
    text[i] = '\x80';
    INFO("bad byte at " << i);
    CHECK_FALSE(is_valid_utf8(text));
    text[i] = 'q';
  }
}

TEST_CASE("is_valid_utf8 reads no further than the view it is given", "[utf8]") {
  // The bytes after the view would complete the sequence; they must not.
  const std::string backing = "abcdefgh\xE2\x82\xAC";
  CHECK(is_valid_utf8(backing));
  CHECK_FALSE(is_valid_utf8(std::string_view(backing).substr(0, backing.size() - 1)));
  CHECK(is_valid_utf8(std::string_view(backing).substr(0, 8)));
}
