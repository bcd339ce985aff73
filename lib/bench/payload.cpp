#include "bench/payload.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <random>

namespace chat::bench {

namespace {

constexpr char marker = '~';
constexpr char separator = ':';
constexpr char padding = '.';

constexpr std::string_view json_prefix = R"({"type":"msg","text":")";
constexpr std::string_view json_suffix = "\"}\n";

template <class Number>
char* put_field(char* out, Number value) noexcept {
  // The buffer is at least min_payload long and every header fits in it.
  out = std::to_chars(out, out + 20, value).ptr;
  *out++ = separator;
  return out;
}

// Reads "DIGITS:" at `at` and moves past the ':'. Hand-rolled: this runs
// three times per delivery, and std::from_chars costs several times more.
// The caller has checked that the text ends in padding, which is no digit,
// so the digits cannot run past the end.
[[gnu::always_inline]] inline bool take_field(const char*& at, std::uint64_t& value) noexcept {
  // 19 digits cannot overflow 64 bits.
  constexpr std::ptrdiff_t max_digits = 19;
  const char* const start = at;
  std::uint64_t number = 0;
  for (unsigned digit; (digit = static_cast<unsigned char>(*at - '0')) < 10; ++at) {
    number = number * 10 + digit;
  }
  if (at == start || at - start > max_digits || *at != separator) return false;
  ++at;
  value = number;
  return true;
}

}  // namespace

run_id run_id::from_number(std::uint32_t number) {
  static constexpr char digits[] = "0123456789abcdef";
  run_id id;
  for (std::size_t i = 0; i < id.hex.size(); ++i) {
    id.hex[id.hex.size() - 1 - i] = digits[(number >> (4 * i)) & 0xF];
  }
  return id;
}

run_id run_id::random() {
  std::random_device device;
  return from_number(static_cast<std::uint32_t>(device()));
}

void write_payload(char* dst, std::size_t size, const run_id& run, const stamp& fields) noexcept {
  char* out = dst;
  *out++ = marker;
  std::memcpy(out, run.hex.data(), run.hex.size());
  out += run.hex.size();
  *out++ = separator;
  out = put_field(out, fields.slot);
  out = put_field(out, fields.seq);
  out = put_field(out, fields.sent_ns);
  std::memset(out, padding, size - static_cast<std::size_t>(out - dst));
}

parsed_payload parse_payload(std::string_view text, const run_id& run, std::size_t size) noexcept {
  constexpr std::size_t header = 1 + 8 + 1;
  parsed_payload result;
  if (text.size() < header || text[0] != marker || text[header - 1] != separator) return result;
  // Two 8-byte loads instead of a call to memcmp.
  std::uint64_t theirs, ours;
  static_assert(sizeof ours == sizeof run.hex);
  std::memcpy(&theirs, text.data() + 1, sizeof theirs);
  std::memcpy(&ours, run.hex.data(), sizeof ours);
  if (theirs != ours) {
    result.kind = payload_kind::other_run;
    return result;
  }
  result.kind = payload_kind::malformed;
  // Checking the length and the last byte catches cut and merged frames
  // without scanning every padding byte of a large payload.
  if (text.size() != size || text.back() != padding) return result;
  const char* at = text.data() + header;
  std::uint64_t slot = 0;
  if (!take_field(at, slot) || slot > UINT32_MAX || !take_field(at, result.fields.seq) ||
      !take_field(at, result.fields.sent_ns)) {
    return result;
  }
  result.fields.slot = static_cast<std::uint32_t>(slot);
  result.kind = payload_kind::ours;
  return result;
}

std::size_t message_request_size(bool json, std::size_t size) noexcept {
  return size + (json ? json_prefix.size() + json_suffix.size() : 1);
}

void append_message_request(std::string& out, bool json, std::size_t size, const run_id& run,
                            const stamp& fields, bool with_ref) {
  const std::size_t start = out.size();
  out.resize(start + message_request_size(json, size));
  char* at = out.data() + start;
  if (json) {
    std::memcpy(at, json_prefix.data(), json_prefix.size());
    at += json_prefix.size();
  }
  write_payload(at, size, run, fields);
  at += size;
  if (json) {
    std::memcpy(at, json_suffix.data(), json_suffix.size());
  } else {
    *at = '\n';
  }
  if (json && with_ref) {
    // "}\n becomes ","ref":SEQ}\n.
    out.resize(out.size() - 2);
    constexpr std::string_view key = ",\"ref\":";
    out.append(key);
    char digits[20];
    const char* const end = std::to_chars(digits, digits + sizeof digits, fields.seq).ptr;
    out.append(digits, static_cast<std::size_t>(end - digits));
    out.append("}\n");
  }
}

}  // namespace chat::bench
