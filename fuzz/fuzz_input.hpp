#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "protocol/utf8.hpp"

// What every fuzz target shares: the input as text, a reader that takes
// structured values off the front of it, and the way a broken rule stops
// the run (an abort, which libFuzzer saves as a crash).
namespace chat::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const char*>(data), size};
}

// Stops the run when `ok` is false, saying which rule broke and on what.
inline void require(bool ok, const char* rule, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz rule broken: %s\n  %.*s\n", rule, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

// What the decoders may be given: a frame as the framer and the UTF-8 check
// pass it on (valid UTF-8, no LF). Other inputs are skipped, not tested.
inline bool is_frame(std::string_view text) noexcept {
  return text.find('\n') == std::string_view::npos && protocol::is_valid_utf8(text);
}

// Takes fixed-size values off the front of the input; past its end every
// value is zero and every string empty, so any input decodes to something.
class input_reader {
public:
  explicit input_reader(std::string_view input) noexcept : input_(input) {}

  std::uint8_t byte() noexcept {
    if (input_.empty()) return 0;
    const auto value = static_cast<std::uint8_t>(input_.front());
    input_.remove_prefix(1);
    return value;
  }

  // Little-endian, `bytes` of them (at most 8).
  std::uint64_t integer(int bytes) noexcept {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= std::uint64_t{byte()} << (8 * i);
    return value;
  }

  // Up to `size` bytes, fewer at the end of the input.
  std::string_view bytes(std::size_t size) noexcept {
    const std::string_view taken = input_.substr(0, size);
    input_.remove_prefix(taken.size());
    return taken;
  }

  std::string_view rest() noexcept { return bytes(input_.size()); }
  bool empty() const noexcept { return input_.empty(); }

private:
  std::string_view input_;
};

// The writing side of input_reader, for seeds.
inline void put_integer(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace chat::fuzz
