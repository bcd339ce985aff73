#include "protocol/websocket.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

namespace chat::protocol::websocket {

namespace {

namespace op {
constexpr std::uint8_t continuation = 0x0;
constexpr std::uint8_t text = 0x1;
constexpr std::uint8_t binary = 0x2;
constexpr std::uint8_t close = 0x8;
constexpr std::uint8_t ping = 0x9;
constexpr std::uint8_t pong = 0xA;
}  // namespace op

constexpr std::uint8_t fin_bit = 0x80;
constexpr std::uint8_t reserved_bits = 0x70;  // RSV1-3: no extension gives them a meaning
constexpr std::uint8_t mask_bit = 0x80;

bool is_control(std::uint8_t opcode) noexcept { return (opcode & 0x8) != 0; }

// The codes a client may close with (RFC 6455 7.4): those defined for use in a frame, and
// the ranges for libraries and applications. 1005, 1006 and 1015 only ever stand for a
// missing or failed close, and the rest of 1000-2999 is reserved.
bool is_valid_close_code(unsigned code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

// XORs `n` bytes from `src` with the mask (starting at its byte `at`) into `dst`: another
// buffer, or `src` or before it in the same one (each block is loaded before it is stored, and
// stored below what is still to be loaded, so the copy may overlap that way).
void unmask(char* dst, const char* src, std::size_t n, const std::uint8_t (&mask)[4],
            unsigned at) noexcept {
  std::uint8_t key_bytes[8];
  for (unsigned i = 0; i < 8; ++i) key_bytes[i] = mask[(at + i) & 3];
  std::uint64_t key;
  std::memcpy(&key, key_bytes, 8);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, src + i, 8);
    word ^= key;
    std::memcpy(dst + i, &word, 8);
  }
  for (; i < n; ++i) dst[i] = static_cast<char>(src[i] ^ key_bytes[i & 7]);
}

// A control frame (FIN set) with `payload`, which fits one (in a release build, a longer one is
// cut to fit).
std::string control_frame(std::uint8_t opcode, std::string_view payload) {
  assert(payload.size() <= max_control_payload);
  payload = payload.substr(0, max_control_payload);
  std::string frame;
  frame.reserve(2 + payload.size());
  frame.push_back(static_cast<char>(fin_bit | opcode));
  frame.push_back(static_cast<char>(payload.size()));
  frame.append(payload);
  return frame;
}

}  // namespace

enum class frame_reader::verdict : std::uint8_t {
  client_close,
  unmasked,
  reserved_bits,
  unknown_opcode,
  binary,
  fragmented_control,
  control_too_long,
  continuation_without_message,
  text_inside_message,
  non_minimal_length,
  length_top_bit,
  message_too_big,
  invalid_utf8,
  unfinished_utf8,
  close_one_byte,
  invalid_close_code,
  invalid_close_reason,
  out_of_memory,
};

struct frame_reader::control_payloads {
  // The payload of the control frame being read; a close's stays, for its reason.
  char reading[max_control_payload];
  // The last complete ping's payload: a ping cut by the end of a read must not change the
  // payload of the pong asked for by an earlier one.
  char last_ping[max_control_payload];
};

struct frame_reader::cursor {
  char* data;
  // Bytes of input read, and of text written. Each byte of text goes where a byte was read
  // (text <= in), except a '\n' owed at the end of the input (see read).
  std::size_t in = 0;
  std::size_t text = 0;
  // A message ended with no byte of room for its '\n' yet: the next byte read makes it.
  bool newline_owed = false;
  bool pong_due = false;

  void newline() noexcept {
    if (text < in) {
      data[text++] = '\n';
    } else {
      newline_owed = true;
    }
  }
};

frame_reader::frame_reader(std::size_t max_message_bytes) noexcept
    : max_message_bytes_(max_message_bytes) {}

frame_reader::~frame_reader() = default;
frame_reader::frame_reader(frame_reader&&) noexcept = default;
frame_reader& frame_reader::operator=(frame_reader&&) noexcept = default;

std::string_view frame_reader::pong_payload() const noexcept {
  if (!control_) return {};
  return {control_->last_ping, ping_size_};
}

frame_reader::output frame_reader::read(std::span<char> buffer, std::size_t size) noexcept {
  assert(size < buffer.size());
  cursor c{buffer.data()};
  while (c.in < size && stage_ != stage::closed) {
    if (stage_ == stage::header) {
      const auto byte = static_cast<std::uint8_t>(c.data[c.in++]);
      if (c.newline_owed) {
        // The header byte just read is kept in the reader's state: its place is free.
        c.newline_owed = false;
        c.data[c.text++] = '\n';
      }
      header_byte(c, byte);
    } else {
      payload(c, size);
    }
  }
  if (c.newline_owed) {
    // The input ended with the message: the '\n' takes the byte of room after it.
    assert(c.in == size && c.text == size);
    c.data[c.text++] = '\n';
  }
  assert(c.text <= c.in + 1);

  output out;
  out.text_bytes = c.text;
  out.pong_due = c.pong_due;
  if (stage_ == stage::closed) describe_close(out);
  return out;
}

void frame_reader::describe_close(output& out) const noexcept {
  using enum close_code;
  const auto violation = [&out](close_code code, std::string_view reason) {
    out.close = code;
    out.violation = true;
    out.reason = reason;
  };
  switch (verdict_) {
    case verdict::client_close:
      if (control_size_ < 2) {
        out.close = no_status;
      } else {
        const char* const payload = control_->reading;
        out.close = static_cast<close_code>(static_cast<std::uint8_t>(payload[0]) << 8 |
                                            static_cast<std::uint8_t>(payload[1]));
        out.reason = {payload + 2, control_size_ - 2u};
      }
      return;
    case verdict::unmasked: return violation(protocol_error, "client frames must be masked");
    case verdict::reserved_bits:
      return violation(protocol_error, "reserved bits set with no extension");
    case verdict::unknown_opcode: return violation(protocol_error, "unknown opcode");
    case verdict::binary: return violation(unsupported_data, "binary frames are not accepted");
    case verdict::fragmented_control:
      return violation(protocol_error, "a control frame must not be fragmented");
    case verdict::control_too_long:
      return violation(protocol_error, "a control frame's payload is at most 125 bytes");
    case verdict::continuation_without_message:
      return violation(protocol_error, "a continuation frame with no message to continue");
    case verdict::text_inside_message:
      return violation(protocol_error, "a text frame inside a fragmented message");
    case verdict::non_minimal_length:
      return violation(protocol_error, "a payload length not in its shortest form");
    case verdict::length_top_bit:
      return violation(protocol_error, "a payload length with its top bit set");
    case verdict::message_too_big: return violation(message_too_big, "the message is too big");
    case verdict::invalid_utf8: return violation(invalid_payload, "the text is not valid UTF-8");
    case verdict::unfinished_utf8:
      return violation(invalid_payload, "the text ends inside a UTF-8 character");
    case verdict::close_one_byte:
      return violation(protocol_error, "a close frame with a 1-byte payload");
    case verdict::invalid_close_code: return violation(protocol_error, "an invalid close code");
    case verdict::invalid_close_reason:
      return violation(invalid_payload, "the close reason is not valid UTF-8");
    case verdict::out_of_memory: return violation(internal_error, "out of memory");
  }
}

// Each rule is applied at the first header byte that can break it, so a violation is reported
// on the byte that shows it and nothing after that byte is read.
void frame_reader::header_byte(cursor& c, std::uint8_t byte) noexcept {
  const unsigned at = header_at_++;
  if (at == 0) {
    if (byte & reserved_bits) return fail(verdict::reserved_bits);
    opcode_ = byte & 0x0F;
    const bool fin = (byte & fin_bit) != 0;
    switch (opcode_) {
      case op::continuation:
        if (!in_message_) return fail(verdict::continuation_without_message);
        final_ = fin;
        return;
      case op::text:
        if (in_message_) return fail(verdict::text_inside_message);
        in_message_ = true;
        message_bytes_ = 0;
        utf8_.reset();
        final_ = fin;
        return;
      case op::binary: return fail(verdict::binary);
      case op::close:
      case op::ping:
      case op::pong:
        if (!fin) return fail(verdict::fragmented_control);
        return;
      default: return fail(verdict::unknown_opcode);
    }
  }
  if (at == 1) {
    if (!(byte & mask_bit)) return fail(verdict::unmasked);
    const unsigned length = byte & 0x7F;
    if (is_control(opcode_)) {
      if (length > max_control_payload) return fail(verdict::control_too_long);
      if (opcode_ == op::close && length == 1) return fail(verdict::close_one_byte);
    } else if (length < 126 && length > allowance()) {
      return fail(verdict::message_too_big);
    }
    header_size_ = length == 127 ? 14 : length == 126 ? 8 : 6;
    payload_left_ = length < 126 ? length : 0;
    return;
  }
  const unsigned length_end = header_size_ - 4u;  // the mask follows the length
  if (at < length_end) {
    // An extended length (data frames only: a control frame's fits in the second byte).
    const bool long_form = header_size_ == 14;
    if (long_form && at == 2 && (byte & 0x80)) return fail(verdict::length_top_bit);
    payload_left_ = payload_left_ << 8 | byte;
    const std::uint64_t least_in_form = long_form ? 65536 : 126;
    const unsigned bytes_to_come = length_end - 1 - at;
    if (bytes_to_come == 0) {
      if (payload_left_ < least_in_form) return fail(verdict::non_minimal_length);
      if (payload_left_ > allowance()) return fail(verdict::message_too_big);
    } else {
      // The length is at least this whatever comes: when that is too big yet in its shortest
      // form, the message is too big already.
      const std::uint64_t least = payload_left_ << (8 * bytes_to_come);
      if (least >= least_in_form && least > allowance()) return fail(verdict::message_too_big);
    }
    return;
  }
  mask_[at - length_end] = byte;
  if (header_at_ < header_size_) return;
  start_payload();
  if (payload_left_ == 0) end_frame(c);
}

void frame_reader::start_payload() noexcept {
  stage_ = stage::payload;
  mask_at_ = 0;
  if (is_control(opcode_)) {
    control_size_ = 0;
    // A close ends the message in progress: the UTF-8 state now follows the close's reason.
    if (opcode_ == op::close) utf8_.reset();
    // A pong's payload is not kept.
    if (!control_ && payload_left_ > 0 && opcode_ != op::pong) {
      control_.reset(new (std::nothrow) control_payloads);
      if (!control_) fail(verdict::out_of_memory);
    }
  } else {
    message_bytes_ += payload_left_;
  }
}

void frame_reader::payload(cursor& c, std::size_t size) noexcept {
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, size - c.in));
  char* const src = c.data + c.in;
  switch (opcode_) {
    case op::text:
    case op::continuation: {
      // In place: the text is never ahead of the input (see read).
      char* const dst = c.data + c.text;
      assert(dst <= src);
      unmask(dst, src, n, mask_, mask_at_);
      const std::size_t valid = utf8_.feed({dst, n});
      std::replace_if(
          dst, dst + valid, [](char ch) { return ch == '\n' || ch == '\r'; }, ' ');
      c.text += valid;
      if (valid < n) {
        c.in += valid + 1;  // read through the bad byte, and no further
        return fail(verdict::invalid_utf8);
      }
      break;
    }
    case op::close:
    case op::ping: {
      const std::size_t before = control_size_;
      unmask(control_->reading + before, src, n, mask_, mask_at_);
      control_size_ = static_cast<std::uint8_t>(before + n);
      if (opcode_ == op::close) {
        close_payload(before);
        if (stage_ == stage::closed) {
          c.in += n;  // copied, if not all looked at
          return;
        }
      }
      break;
    }
    default: break;  // a pong: nothing to keep
  }
  c.in += n;
  payload_left_ -= n;
  mask_at_ = static_cast<std::uint8_t>((mask_at_ + n) & 3);
  if (payload_left_ == 0) end_frame(c);
}

// Checks the bytes of a close frame's payload from `before` on: the code once both its bytes
// are in, then the reason as it comes.
void frame_reader::close_payload(std::size_t before) noexcept {
  if (before < 2 && control_size_ >= 2) {
    const char* const payload = control_->reading;
    const unsigned code =
        static_cast<std::uint8_t>(payload[0]) << 8 | static_cast<std::uint8_t>(payload[1]);
    if (!is_valid_close_code(code)) return fail(verdict::invalid_close_code);
  }
  const std::size_t from = std::max<std::size_t>(before, 2);
  if (control_size_ <= from) return;
  const std::string_view reason(control_->reading + from, control_size_ - from);
  if (utf8_.feed(reason) < reason.size()) fail(verdict::invalid_close_reason);
}

void frame_reader::end_frame(cursor& c) noexcept {
  stage_ = stage::header;
  header_at_ = 0;
  header_size_ = 2;
  switch (opcode_) {
    case op::text:
    case op::continuation:
      if (!final_) return;
      if (!utf8_.complete()) return fail(verdict::unfinished_utf8);
      in_message_ = false;
      c.newline();
      return;
    case op::ping:
      // An empty ping may come before any payload had a place.
      if (control_) std::memcpy(control_->last_ping, control_->reading, control_size_);
      ping_size_ = control_size_;
      c.pong_due = true;
      return;
    case op::close:
      if (!utf8_.complete()) return fail(verdict::invalid_close_reason);
      verdict_ = verdict::client_close;
      stage_ = stage::closed;
      return;
    default: return;  // a pong
  }
}

void frame_reader::fail(verdict why) noexcept {
  verdict_ = why;
  stage_ = stage::closed;
}

std::size_t encode_text_header(std::size_t payload_bytes,
                               std::span<char, max_header_bytes> out) noexcept {
  out[0] = static_cast<char>(fin_bit | op::text);
  if (payload_bytes < 126) {
    out[1] = static_cast<char>(payload_bytes);
    return 2;
  }
  if (payload_bytes <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<char>(payload_bytes >> 8);
    out[3] = static_cast<char>(payload_bytes & 0xFF);
    return 4;
  }
  out[1] = 127;
  const auto length = static_cast<std::uint64_t>(payload_bytes);
  for (unsigned i = 0; i < 8; ++i) out[2 + i] = static_cast<char>(length >> (56 - 8 * i));
  return 10;
}

std::string encode_close(close_code code, std::string_view reason) {
  if (code == close_code::no_status) return control_frame(op::close, {});
  const auto value = static_cast<std::uint16_t>(code);
  std::string payload;
  payload.push_back(static_cast<char>(value >> 8));
  payload.push_back(static_cast<char>(value & 0xFF));
  payload.append(utf8_prefix(reason, max_control_payload - 2));
  return control_frame(op::close, payload);
}

std::string encode_ping(std::string_view payload) { return control_frame(op::ping, payload); }

std::string encode_pong(std::string_view payload) { return control_frame(op::pong, payload); }

}  // namespace chat::protocol::websocket
