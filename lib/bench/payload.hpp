#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::bench {

// Random per run, so that frames of an earlier run (or of a second chat-bench
// on the same server) are told apart from deliveries instead of counted.
struct run_id {
  std::array<char, 8> hex{};

  static run_id random();
  static run_id from_number(std::uint32_t number);
  std::string_view view() const noexcept { return {hex.data(), hex.size()}; }
  friend bool operator==(const run_id&, const run_id&) = default;
};

// What a message must carry for its receiver to count it: whose it is, where
// it stands in that sender's sequence, and when it left (for latency).
struct stamp {
  std::uint32_t slot = 0;
  // 1, 2, ... per sender; 0 is the warm-up message, never counted.
  std::uint64_t seq = 0;
  // Nanoseconds on the generator's steady clock since the run began.
  std::uint64_t sent_ns = 0;
};

// The text is "~RUNID:SLOT:SEQ:SENT_NS:" padded with '.' to the exact size,
// so a truncated or padded delivery is caught by its length. The leading '~'
// keeps a plain-mode message from looking like a /command.
inline constexpr std::size_t min_payload = 64;
// Fits every header: 1 + 8 + 1 + 10 + 1 + 20 + 1 + 20 + 1 bytes.
static_assert(min_payload >= 63);
// The server's --max-line bounds what it accepts; this only keeps a mistyped
// flag from building absurd frames.
inline constexpr std::size_t max_payload = 1 << 20;

// Writes the payload into dst[0, size); size must be at least min_payload.
void write_payload(char* dst, std::size_t size, const run_id& run, const stamp& fields) noexcept;

enum class payload_kind {
  ours,       // this run's message: fields are set
  other_run,  // a bench message of another run
  foreign,    // not a bench message at all (a person typing, another tool)
  malformed,  // this run's header, but cut, padded or unparsable
};

struct parsed_payload {
  payload_kind kind = payload_kind::foreign;
  stamp fields;
};

parsed_payload parse_payload(std::string_view text, const run_id& run, std::size_t size) noexcept;

// The size of the client frame that sends one payload of `size` bytes.
std::size_t message_request_size(bool json, std::size_t size) noexcept;

// Appends that frame: the plain line, or the JSON msg request, byte for byte
// as protocol::encode_message_request writes it (the payload never needs
// escaping), without building a string per message. `with_ref` (JSON only)
// adds "ref":SEQ, so that the server acks the message with its sequence
// number.
void append_message_request(std::string& out, bool json, std::size_t size, const run_id& run,
                            const stamp& fields, bool with_ref = false);

}  // namespace chat::bench
