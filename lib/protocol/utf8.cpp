#include "protocol/utf8.hpp"

#include <array>
#include <cstdint>

namespace chat::protocol {

namespace {

// RFC 3629's UTF8-octets as an automaton: each byte falls in a class, and the class takes the
// state to the next one. The forbidden ranges (overlongs, surrogates, past U+10FFFF) are all
// decided by the byte after the lead, which is why E0, ED, F0 and F4 have classes and states
// of their own.

// The byte classes.
enum : std::uint8_t {
  ascii,       // 00..7F
  cont_80_8f,  // continuation bytes, in three classes: where the ranges allowed after E0, ED,
  cont_90_9f,  // F0 and F4 begin and end
  cont_a0_bf,
  never,    // C0, C1, F5..FF: overlong or past U+10FFFF whatever follows
  lead_2,   // C2..DF
  lead_e0,  // then A0..BF (below: overlong)
  lead_3,   // E1..EC, EE, EF
  lead_ed,  // then 80..9F (above: surrogates)
  lead_f0,  // then 90..BF (below: overlong)
  lead_4,   // F1..F3
  lead_f4,  // then 80..8F (above: past U+10FFFF)
  class_count
};

// The states, after the two the header names (between characters, invalid; it keeps them
// as offsets into a row of `rows`, below).
enum : std::uint8_t {
  between,
  bad,
  need_1,    // one continuation byte to go
  need_2,    // two to go
  need_3,    // three to go
  after_e0,  // two to go, the first A0..BF
  after_ed,  // two to go, the first 80..9F
  after_f0,  // three to go, the first 90..BF
  after_f4,  // three to go, the first 80..8F
  state_count
};

constexpr std::array<std::uint8_t, 256> byte_class = [] {
  std::array<std::uint8_t, 256> c{};
  for (int b = 0; b < 256; ++b) {
    if (b < 0x80) c[b] = ascii;
    else if (b < 0x90) c[b] = cont_80_8f;
    else if (b < 0xA0) c[b] = cont_90_9f;
    else if (b < 0xC0) c[b] = cont_a0_bf;
    else if (b < 0xC2) c[b] = never;
    else if (b < 0xE0) c[b] = lead_2;
    else if (b == 0xE0) c[b] = lead_e0;
    else if (b == 0xED) c[b] = lead_ed;
    else if (b < 0xF0) c[b] = lead_3;
    else if (b == 0xF0) c[b] = lead_f0;
    else if (b < 0xF4) c[b] = lead_4;
    else if (b == 0xF4) c[b] = lead_f4;
    else c[b] = never;
  }
  return c;
}();

constexpr std::size_t transition_count = std::size_t{state_count} * class_count;

// The next state, at [state * class_count + class].
constexpr std::array<std::uint8_t, transition_count> transition = [] {
  std::array<std::uint8_t, transition_count> t{};
  for (auto& next : t) next = bad;
  const auto to = [&t](std::uint8_t from, std::uint8_t cls, std::uint8_t next) {
    t[from * class_count + cls] = next;
  };
  to(between, ascii, between);
  to(between, lead_2, need_1);
  to(between, lead_e0, after_e0);
  to(between, lead_3, need_2);
  to(between, lead_ed, after_ed);
  to(between, lead_f0, after_f0);
  to(between, lead_4, need_3);
  to(between, lead_f4, after_f4);
  for (const std::uint8_t cont : {cont_80_8f, cont_90_9f, cont_a0_bf}) {
    to(need_1, cont, between);
    to(need_2, cont, need_1);
    to(need_3, cont, need_2);
  }
  to(after_e0, cont_a0_bf, need_1);
  to(after_ed, cont_80_8f, need_1);
  to(after_ed, cont_90_9f, need_1);
  to(after_f0, cont_90_9f, need_2);
  to(after_f0, cont_a0_bf, need_2);
  to(after_f4, cont_80_8f, need_2);
  return t;
}();

// The automaton as one row of 64 bits per byte: the next state for each current one, six
// bits each at the current state's offset (state * 6). A step is then a load that does not
// wait for the state and a shift that does. On non-ASCII text this is as fast as the byte-range
// checks is_valid_utf8 had before; looking up the class and then the transition (two loads,
// one after the other) was 2.5 times slower.
constexpr unsigned state_bits = 6;
static_assert(state_count * state_bits <= 64);

constexpr std::array<std::uint64_t, 256> rows = [] {
  std::array<std::uint64_t, 256> r{};
  for (int b = 0; b < 256; ++b) {
    for (unsigned from = 0; from < state_count; ++from) {
      const std::uint64_t next = transition[from * class_count + byte_class[b]];
      r[b] |= (next * state_bits) << (from * state_bits);
    }
  }
  return r;
}();

// Runs the automaton from `offset` (a state times state_bits) over [p, end). Stops at the
// first byte that makes the text invalid, leaving `offset` at the invalid state; returns where
// it stopped (`end` if nothing was invalid).
const std::uint8_t* run(std::uint8_t& offset, const std::uint8_t* p,
                        const std::uint8_t* const end) noexcept {
  std::uint64_t at = offset;
  while (p < end) {
    if (at == between * state_bits) {
      // Chat is mostly ASCII: between characters, skip it eight bytes at a time.
      while (end - p >= 8) {
        std::uint64_t word;
        __builtin_memcpy(&word, p, 8);
        if (word & 0x8080808080808080ULL) break;
        p += 8;
      }
      if (p == end) break;
      if (*p < 0x80) {
        ++p;
        continue;
      }
    }
    at = (rows[*p] >> at) & 63;
    if (at == bad * state_bits) break;
    ++p;
  }
  offset = static_cast<std::uint8_t>(at);
  return p;
}

static_assert(between * state_bits == utf8_validator::between_characters);
static_assert(bad * state_bits == utf8_validator::invalid);

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* const begin = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto* const end = begin + text.size();
  std::uint8_t offset = between * state_bits;
  return run(offset, begin, end) == end && offset == between * state_bits;
}

std::size_t utf8_validator::feed(std::string_view piece) noexcept {
  const auto* const begin = reinterpret_cast<const std::uint8_t*>(piece.data());
  return static_cast<std::size_t>(run(state_, begin, begin + piece.size()) - begin);
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // The byte at `cut` is the first one left out: while it continues a character, that
  // character is left out too.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

}  // namespace chat::protocol
