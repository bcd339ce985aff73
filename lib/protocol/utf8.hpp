#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chat::protocol {

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text) noexcept;

// The same check for text that arrives in pieces (the frames and reads of a WebSocket
// message), with a character split anywhere between them. One automaton, in utf8.cpp, serves
// both: this keeps its state between pieces.
class utf8_validator {
public:
  // Checks the next piece. Returns how many of its bytes continue valid text: all of them, or
  // the offset of the first byte that cannot (the text is invalid from there on, and every
  // later piece gets 0).
  std::size_t feed(std::string_view piece) noexcept;

  // Nothing invalid so far, and not inside a character: the text could end here.
  bool complete() const noexcept { return state_ == between_characters; }
  // Nothing invalid so far (the text may still be inside a character).
  bool ok() const noexcept { return state_ != invalid; }

  void reset() noexcept { state_ = between_characters; }

  // The automaton's two states that are not inside a character, as it keeps its states (bit
  // offsets into a row of its table, utf8.cpp).
  static constexpr std::uint8_t between_characters = 0;
  static constexpr std::uint8_t invalid = 6;

private:
  std::uint8_t state_ = between_characters;
};

// The longest prefix of UTF-8 `text` of at most `max_bytes` that does not cut a character.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept;

}  // namespace chat::protocol
