#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/utf8.hpp"

// WebSocket frames (RFC 6455) as the server reads and writes them, with no I/O: a client's
// frames become the LF-ended lines the server's line framer reads, one per text message, and
// the server's frames are built here for the transport to write. No extension is negotiated
// (no permessage-deflate), and only text messages are accepted.
namespace chat::protocol::websocket {

enum class close_code : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,  // never sent in a close frame: a close frame with no payload
  invalid_payload = 1007,
  policy_violation = 1008,
  message_too_big = 1009,
  internal_error = 1011,
};

// The largest payload of a control frame (close, ping, pong).
inline constexpr std::size_t max_control_payload = 125;

// Decodes what a client sends, in place, keeping its state between reads (a frame, and a
// message, may span any number of them). Its state is a few counters, the mask, the UTF-8
// state: under 80 bytes, so an idle connection holds no buffer. The payloads of control
// frames are kept from the first one on.
class frame_reader {
public:
  // A text message whose payload (all its fragments) would be longer is refused with
  // message_too_big as soon as a frame header announces it.
  explicit frame_reader(std::size_t max_message_bytes) noexcept;
  ~frame_reader();
  frame_reader(frame_reader&&) noexcept;
  frame_reader& operator=(frame_reader&&) noexcept;

  struct output {
    // Bytes [0, text_bytes) of the buffer are now message text: the payload of each text
    // message, unmasked, with LF and CR turned into spaces, and one '\n' after the message's
    // last byte. A message may be handed out in parts as its bytes arrive; its '\n' comes
    // with its last part.
    std::size_t text_bytes = 0;
    // A ping came during this call: answer with encode_pong(pong_payload()). Several pings in
    // one call ask for one pong, with the last one's payload (RFC 6455 5.5.3 allows that).
    bool pong_due = false;
    // Set from the call that finds the end on: the client's close (the code it gave, no_status
    // if none), or the code the server must close with when `violation`. Once set, every later
    // call returns it again and nothing else, and the bytes after it are never looked at.
    std::optional<close_code> close;
    // `close` is the server's verdict on bad input, not the client's own close.
    bool violation = false;
    // For a violation, a short English reason ("binary frames are not accepted"); for the
    // client's close, the reason it gave (valid UTF-8, maybe empty). Valid while the reader
    // lives.
    std::string_view reason;
  };

  // Reads what came from the socket: the first `size` bytes of `buffer`, rewriting the text of
  // messages to the front of the buffer (see output). `buffer` must have room for one byte
  // more than the input (size < buffer.size(): read at most buffer.size() - 1 bytes into it).
  //
  // In place is safe because the text never overtakes the input: a client frame has at least
  // 6 header bytes (2, and the mask) that the text does not repeat, so each byte of text is
  // written where a byte was already read. A message's '\n' is the one exception: when a read
  // begins in the payload of the message's last frame and ends with it, no header of that read
  // made room, and the '\n' goes to the byte of room after the input.
  //
  // Every byte is consumed unless `close` is set: then the rest is ignored. The text of
  // complete messages before a violation or the client's close is handed out; the part of a
  // message cut short by one never gets its '\n'.
  output read(std::span<char> buffer, std::size_t size) noexcept;

  // The last complete ping's payload (at most 125 bytes), for the pong.
  std::string_view pong_payload() const noexcept;

private:
  enum class stage : std::uint8_t { header, payload, closed };
  // Why the reader closed: the client's close or one of the violations (websocket.cpp).
  enum class verdict : std::uint8_t;
  struct control_payloads;
  // Where one call is in its buffer.
  struct cursor;

  void header_byte(cursor& c, std::uint8_t byte) noexcept;
  void start_payload() noexcept;
  void payload(cursor& c, std::size_t size) noexcept;
  void close_payload(std::size_t before) noexcept;
  void end_frame(cursor& c) noexcept;
  void fail(verdict why) noexcept;
  void describe_close(output& out) const noexcept;
  std::uint64_t allowance() const noexcept { return max_message_bytes_ - message_bytes_; }

  // The limit, and what the message in progress has used of it (its frames so far, the one
  // being read included once its length is known).
  std::uint64_t max_message_bytes_;
  std::uint64_t message_bytes_ = 0;
  // While reading a header, the extended length as far as it came; then the payload bytes of
  // the frame still to come.
  std::uint64_t payload_left_ = 0;
  // The text of the message in progress so far, or a close frame's reason: a character may be
  // split between frames and reads.
  utf8_validator utf8_;
  stage stage_ = stage::header;
  // How many bytes of the current header came, and how many it has (2, then 6, 8 or 14 once
  // its second byte tells).
  std::uint8_t header_at_ = 0;
  std::uint8_t header_size_ = 2;
  // The current frame's opcode; whether the current data frame ends its message.
  std::uint8_t opcode_ = 0;
  bool final_ = false;
  // A text frame came and its last fragment has not: continuations are expected.
  bool in_message_ = false;
  verdict verdict_{};
  // The current frame's mask, and where in it the next payload byte starts.
  std::uint8_t mask_[4] = {};
  std::uint8_t mask_at_ = 0;
  std::uint8_t control_size_ = 0;
  std::uint8_t ping_size_ = 0;
  // Made by the first ping or close with a payload: most connections never send one, and an
  // idle one should not carry 250 bytes for it.
  std::unique_ptr<control_payloads> control_;
};

// Server frames, never masked.

// The most a header of a server frame takes.
inline constexpr std::size_t max_header_bytes = 10;

// Writes the header of a final text frame with `payload_bytes` of payload to `out`; returns
// its size (2, 4 or 10).
std::size_t encode_text_header(std::size_t payload_bytes,
                               std::span<char, max_header_bytes> out) noexcept;

// A close frame with `code` and `reason` (UTF-8, cut to 123 bytes between characters); with
// no_status, a close frame with no payload.
std::string encode_close(close_code code, std::string_view reason);

// A ping or a pong with `payload` (at most 125 bytes: asserted, and cut there in a release
// build).
std::string encode_ping(std::string_view payload);
std::string encode_pong(std::string_view payload);

}  // namespace chat::protocol::websocket
