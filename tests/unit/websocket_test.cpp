// The WebSocket frame codec. Client frames are built here, masked by a helper of the test's
// own, and fed to a frame_reader whole, byte by byte and cut at every place, which must all
// give the same text and the same end. Each rule of the reader is met just inside (accepted)
// and just outside (refused, on the very byte that breaks it). The server's frames are read
// back by the test's own reading of RFC 6455 5.2. The streaming UTF-8 validator is held to
// is_valid_utf8 however its text is cut.

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/utf8.hpp"
#include "protocol/websocket.hpp"

namespace {

namespace ws = chat::protocol::websocket;
using chat::protocol::is_valid_utf8;
using chat::protocol::utf8_validator;
using ws::close_code;
using ws::frame_reader;
using std::string_literals::operator""s;

// The first byte of a frame: FIN, then the opcodes.
constexpr std::uint8_t fin = 0x80;
constexpr std::uint8_t op_continuation = 0x0;
constexpr std::uint8_t op_text = 0x1;
constexpr std::uint8_t op_binary = 0x2;
constexpr std::uint8_t op_close = 0x8;
constexpr std::uint8_t op_ping = 0x9;
constexpr std::uint8_t op_pong = 0xA;

// Most tests leave the size limit out of the way.
constexpr std::size_t roomy = std::size_t{1} << 20;

enum class length_form { shortest, bits_7, bits_16, bits_64 };

struct frame_options {
  length_form form = length_form::shortest;
  bool masked = true;
  // A length to announce other than the payload's.
  std::optional<std::uint64_t> declared = std::nullopt;
  std::array<std::uint8_t, 4> mask = {0x9B, 0x1E, 0x5C, 0xE7};
};

// A client frame: `first` as it goes on the wire (FIN, RSV and opcode), the length in the form
// asked for, the mask and the masked payload.
std::string client_frame(std::uint8_t first, std::string_view payload, frame_options o = {}) {
  const std::uint64_t length = o.declared.value_or(payload.size());
  length_form form = o.form;
  if (form == length_form::shortest) {
    form = length < 126       ? length_form::bits_7
           : length <= 0xFFFF ? length_form::bits_16
                              : length_form::bits_64;
  }
  const std::uint8_t mask_bit = o.masked ? 0x80 : 0x00;
  std::string frame(1, static_cast<char>(first));
  switch (form) {
    case length_form::shortest:
    case length_form::bits_7: frame.push_back(static_cast<char>(mask_bit | length)); break;
    case length_form::bits_16:
      frame.push_back(static_cast<char>(mask_bit | 126));
      for (const int shift : {8, 0}) frame.push_back(static_cast<char>(length >> shift));
      break;
    case length_form::bits_64:
      frame.push_back(static_cast<char>(mask_bit | 127));
      for (int shift = 56; shift >= 0; shift -= 8) {
        frame.push_back(static_cast<char>(length >> shift));
      }
      break;
  }
  if (o.masked) {
    for (const std::uint8_t byte : o.mask) frame.push_back(static_cast<char>(byte));
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(payload[i] ^ (o.masked ? o.mask[i % 4] : 0)));
  }
  return frame;
}

std::string text(std::string_view payload) { return client_frame(fin | op_text, payload); }
std::string first_fragment(std::string_view payload) { return client_frame(op_text, payload); }
std::string middle_fragment(std::string_view payload) {
  return client_frame(op_continuation, payload);
}
std::string last_fragment(std::string_view payload) {
  return client_frame(fin | op_continuation, payload);
}
std::string ping(std::string_view payload) { return client_frame(fin | op_ping, payload); }
std::string pong(std::string_view payload) { return client_frame(fin | op_pong, payload); }
std::string close_payload(unsigned code, std::string_view reason) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} +
         std::string(reason);
}
std::string close_frame(unsigned code, std::string_view reason = {}) {
  return client_frame(fin | op_close, close_payload(code, reason));
}

// What a reader handed out over a stream.
struct outcome {
  std::string text;
  // The payload of the last pong asked for, if any was.
  std::optional<std::string> last_pong;
  std::optional<close_code> close;
  bool violation = false;
  std::string reason;
  // How much input had been given by the end of the call that set `close`: fed byte by byte,
  // the byte that decided it. Not compared, since it depends on the cuts.
  std::size_t closed_after = 0;

  bool operator==(const outcome& o) const {
    return text == o.text && last_pong == o.last_pong && close == o.close &&
           violation == o.violation && reason == o.reason;
  }
};

std::string escaped(std::string_view bytes) {
  std::string out;
  for (const char ch : bytes) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte == '\n') {
      out += "\\n";
    } else if (byte < 0x20 || byte >= 0x7F || byte == '\\') {
      const char* const digits = "0123456789ABCDEF";
      out += "\\x";
      out += digits[byte >> 4];
      out += digits[byte & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const outcome& o) {
  os << "{text \"" << escaped(o.text) << "\"";
  if (o.last_pong) os << ", pong \"" << escaped(*o.last_pong) << "\"";
  if (o.close) {
    os << ", " << (o.violation ? "violation " : "close ") << static_cast<unsigned>(*o.close)
       << " \"" << escaped(o.reason) << "\" after " << o.closed_after << " bytes";
  }
  return os << "}";
}

// One read: `piece` in a buffer with exactly one byte of room after it, as read() asks. Checks
// what every call must do: write nothing past the input but a '\n', and once closed, say so
// again and hand out nothing else.
void give(frame_reader& reader, std::string_view piece, outcome& o, std::size_t& fed) {
  std::vector<char> buffer(piece.begin(), piece.end());
  buffer.push_back('#');
  const frame_reader::output out = reader.read(buffer, piece.size());
  fed += piece.size();
  REQUIRE(out.text_bytes <= piece.size() + 1);
  CHECK(buffer.back() == (out.text_bytes == piece.size() + 1 ? '\n' : '#'));
  if (o.close) {
    CHECK(out.text_bytes == 0);
    CHECK_FALSE(out.pong_due);
    CHECK(out.close == o.close);
    CHECK(out.violation == o.violation);
    CHECK(out.reason == o.reason);
    return;
  }
  o.text.append(buffer.data(), out.text_bytes);
  if (out.pong_due) o.last_pong = std::string(reader.pong_payload());
  if (out.close) {
    o.close = out.close;
    o.violation = out.violation;
    o.reason = std::string(out.reason);
    o.closed_after = fed;
  } else {
    CHECK_FALSE(out.violation);
    CHECK(out.reason.empty());
  }
}

// Feeds `stream` cut at `cuts` (increasing offsets), then, once closed, more bytes that must
// change nothing.
outcome feed_cut(std::string_view stream, const std::vector<std::size_t>& cuts,
                 std::size_t max_message = roomy) {
  frame_reader reader(max_message);
  outcome o;
  std::size_t fed = 0;
  std::size_t from = 0;
  for (const std::size_t cut : cuts) {
    give(reader, stream.substr(from, cut - from), o, fed);
    from = cut;
  }
  give(reader, stream.substr(from), o, fed);
  if (o.close) give(reader, text("after the end"), o, fed);
  return o;
}

outcome feed_whole(std::string_view stream, std::size_t max_message = roomy) {
  return feed_cut(stream, {}, max_message);
}

outcome feed_bytewise(std::string_view stream, std::size_t max_message = roomy) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  return feed_cut(stream, cuts, max_message);
}

// However the stream is cut into reads, the reader hands out the same: byte by byte, at every
// place, and (for short streams) at every two places.
void check_every_cut(std::string_view stream, std::size_t max_message = roomy) {
  const outcome whole = feed_whole(stream, max_message);
  CHECK(feed_bytewise(stream, max_message) == whole);
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    INFO("cut at " << i);
    CHECK(feed_cut(stream, {i}, max_message) == whole);
  }
  if (stream.size() > 80) return;
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    for (std::size_t j = i; j <= stream.size(); ++j) {
      INFO("cuts at " << i << " and " << j);
      CHECK(feed_cut(stream, {i, j}, max_message) == whole);
    }
  }
}

outcome accepted(std::string text_out, std::optional<std::string> pong = std::nullopt) {
  outcome o;
  o.text = std::move(text_out);
  o.last_pong = std::move(pong);
  return o;
}

// The stream is accepted: every message in `text_out`, and no close.
void check_accepted(std::string_view stream, const std::string& text_out,
                    std::size_t max_message = roomy) {
  const outcome whole = feed_whole(stream, max_message);
  CHECK_FALSE(whole.close);
  CHECK(whole.text == text_out);
  CHECK(feed_bytewise(stream, max_message) == whole);
}

// The stream is refused with `code` on its byte number `at` (counting from 1): fed byte by
// byte, the close comes with that byte and not before; fed whole, it is the same verdict.
void check_refused(std::string_view stream, close_code code, std::size_t at,
                   std::size_t max_message = roomy) {
  const outcome bytewise = feed_bytewise(stream, max_message);
  INFO(bytewise);
  REQUIRE(bytewise.close);
  CHECK(*bytewise.close == code);
  CHECK(bytewise.violation);
  CHECK_FALSE(bytewise.reason.empty());
  CHECK(bytewise.closed_after == at);
  CHECK(feed_whole(stream, max_message) == bytewise);
}

// Reads a server frame the way a client would (RFC 6455 5.2): header fields, payload.
struct server_frame {
  bool fin = false;
  unsigned rsv = 0;
  unsigned opcode = 0;
  bool masked = false;
  std::uint64_t length = 0;
  std::size_t header_size = 0;
  bool shortest = false;  // the length in its shortest form
};

server_frame decode_server_header(std::string_view bytes) {
  REQUIRE(bytes.size() >= 2);
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes.at(i)); };
  server_frame f;
  f.fin = (byte(0) & 0x80) != 0;
  f.rsv = (byte(0) >> 4) & 0x7;
  f.opcode = byte(0) & 0xF;
  f.masked = (byte(1) & 0x80) != 0;
  const unsigned length7 = byte(1) & 0x7F;
  std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  f.length = length7;
  if (extended > 0) {
    f.length = 0;
    for (std::size_t i = 0; i < extended; ++i) f.length = f.length << 8 | byte(2 + i);
  }
  f.header_size = 2 + extended + (f.masked ? 4 : 0);
  f.shortest = extended == 0 || (extended == 2 && f.length >= 126) ||
               (extended == 8 && f.length > 0xFFFF && f.length >> 63 == 0);
  return f;
}

// A whole server control frame: its header checked, its payload returned.
std::string control_payload(std::string_view frame, unsigned opcode) {
  const server_frame f = decode_server_header(frame);
  CHECK(f.fin);
  CHECK(f.rsv == 0);
  CHECK(f.opcode == opcode);
  CHECK_FALSE(f.masked);
  CHECK(f.shortest);
  CHECK(f.length <= 125);
  CHECK(frame.size() == f.header_size + f.length);
  return std::string(frame.substr(f.header_size));
}

// A server frame as a client would send it: the same frame, masked.
std::string masked(std::string_view server) {
  const server_frame f = decode_server_header(server);
  return client_frame(static_cast<std::uint8_t>(server[0]), server.substr(f.header_size));
}

}  // namespace

TEST_CASE("websocket: a text message comes out unmasked with an LF after it", "[websocket]") {
  CHECK(feed_whole(text("hello")) == accepted("hello\n"));
  CHECK(feed_whole(text("a") + text("") + text("{\"type\":\"say\",\"text\":\"hi\"}")) ==
        accepted("a\n\n{\"type\":\"say\",\"text\":\"hi\"}\n"));
  CHECK(feed_whole(text("caf\xC3\xA9 \xE2\x82\xAC")) == accepted("caf\xC3\xA9 \xE2\x82\xAC\n"));
  // A masking key of zeroes leaves the payload as it is, and is still a mask.
  CHECK(feed_whole(client_frame(fin | op_text, "plain", {.mask = {0, 0, 0, 0}})) ==
        accepted("plain\n"));
}

TEST_CASE("websocket: LF and CR inside a message become spaces", "[websocket]") {
  CHECK(feed_whole(text("a\nb\r\nc\r")) == accepted("a b  c \n"));
  CHECK(feed_whole(first_fragment("{\"a\":\n") + last_fragment("1}\r\n")) ==
        accepted("{\"a\": 1}  \n"));
}

TEST_CASE("websocket: a message comes out as it arrives, its LF with its last fragment",
          "[websocket]") {
  frame_reader reader(roomy);
  outcome o;
  std::size_t fed = 0;
  give(reader, first_fragment("{\"te"), o, fed);
  CHECK(o.text == "{\"te");
  give(reader, ping("are you there?"), o, fed);
  CHECK(o.text == "{\"te");
  CHECK(o.last_pong == "are you there?");
  o.last_pong.reset();
  give(reader, middle_fragment("xt\":"), o, fed);
  give(reader, pong("unasked"), o, fed);
  CHECK_FALSE(o.last_pong);
  // The payload of a frame may come in parts too.
  const std::string last = last_fragment("\"hi\"}");
  give(reader, std::string_view(last).substr(0, 8), o, fed);
  CHECK(o.text == "{\"text\":\"h");
  give(reader, std::string_view(last).substr(8), o, fed);
  CHECK(o.text == "{\"text\":\"hi\"}\n");
  CHECK_FALSE(o.close);
}

TEST_CASE("websocket: a read holding only the end of a message puts its LF in the byte of room",
          "[websocket]") {
  // The header came with the read before: this read has no header byte to make room.
  const std::string message(300, 'x');
  const std::string frame = text(message);
  REQUIRE(frame.size() == 8 + 300);
  for (const std::size_t cut : {std::size_t{8}, std::size_t{100}, frame.size() - 1}) {
    frame_reader reader(roomy);
    std::vector<char> buffer(frame.begin(), frame.begin() + cut);
    buffer.push_back('#');
    const auto first = reader.read(buffer, cut);
    CHECK(first.text_bytes == cut - 8);
    buffer.assign(frame.begin() + cut, frame.end());
    buffer.push_back('#');
    const auto second = reader.read(buffer, frame.size() - cut);
    REQUIRE(second.text_bytes == frame.size() - cut + 1);
    CHECK(buffer.back() == '\n');
    CHECK(std::string_view(buffer.data(), frame.size() - cut) == message.substr(cut - 8));
  }
  // With the next frame's first byte in the same read, the LF takes that byte's place.
  frame_reader reader(roomy);
  const std::string stream = frame + ping("p");
  std::vector<char> head(stream.begin(), stream.begin() + 8);
  head.push_back('#');
  CHECK(reader.read(head, 8).text_bytes == 0);
  std::vector<char> rest(stream.begin() + 8, stream.end());
  rest.push_back('#');
  const auto out = reader.read(rest, rest.size() - 1);
  CHECK(out.text_bytes == 301);
  CHECK(rest[300] == '\n');
  CHECK(out.pong_due);
  CHECK(rest.back() == '#');
}

TEST_CASE("websocket: every cut of a stream into reads gives the same text and end",
          "[websocket]") {
  std::string long_text;
  for (int i = 0; i < 30; ++i) long_text += "caf\xC3\xA9 \xE2\x82\xAC\xF0\x9F\x99\x82";
  const std::vector<std::string> streams = {
      text("hello") + text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x99\x82"),
      first_fragment("{\"te") + ping("are you there") + middle_fragment("xt\":\"caf\xC3") +
          pong("x") + last_fragment("\xA9\"}") + text("[]"),
      text(long_text) + close_frame(1000, "bye"),
      text("ok") + first_fragment("\xE2\x82") + last_fragment("\x28"),
      text("x") + close_frame(1001, "going") + text("ignored"),
      first_fragment("a") + client_frame(fin | op_close, ""),
      ping("one") + ping("two") + text("t") + ping(std::string(125, 'p')),
      text("") + first_fragment("") + last_fragment("") + text("\n"),
      text("ok") + first_fragment("abc\xE2\x28") + text("never"),
      close_frame(1000, "fine, then \xC0") + text("never"),
  };
  for (const std::string& stream : streams) {
    INFO("stream " << escaped(stream));
    check_every_cut(stream);
  }
  // What the streams give, cut or not.
  CHECK(feed_whole(streams[1]) == accepted("{\"text\":\"caf\xC3\xA9\"}\n[]\n", "are you there"));
  outcome bye = accepted(long_text + "\n");
  bye.close = close_code::normal;
  bye.reason = "bye";
  CHECK(feed_whole(streams[2]) == bye);
  CHECK(feed_whole(streams[6]) == accepted("t\n", std::string(125, 'p')));
  CHECK(feed_whole(streams[7]) == accepted("\n\n \n"));
}

TEST_CASE("websocket: bad UTF-8 after text at the start of a read keeps that text (fuzz crash)",
          "[websocket]") {
  // fuzz_websocket_frames: a text frame's header in one read, its payload "\x16\xD6\x01" in the
  // next; the reader kept the two valid bytes as text but counted nothing of that read as
  // input, and its in-place assertion (text at most one byte past the input) failed.
  const std::string stream = "\x01\x9F\x5F\x9F\x53\x58\x49\x49\x52";
  const outcome cut = feed_cut(stream, {6}, 32);
  CHECK(cut.text == "\x16\xD6");
  CHECK(cut.close == close_code::invalid_payload);
  CHECK(cut.violation);
  check_every_cut(stream, 32);
}

TEST_CASE("websocket: client frames must be masked", "[websocket]") {
  check_accepted(text("hi"), "hi\n");
  check_refused(client_frame(fin | op_text, "hi", {.masked = false}), close_code::protocol_error,
                2);
  check_refused(client_frame(fin | op_ping, "hi", {.masked = false}), close_code::protocol_error,
                2);
  check_refused(text("ok") + client_frame(fin | op_close, "", {.masked = false}),
                close_code::protocol_error, text("ok").size() + 2);
}

TEST_CASE("websocket: the reserved bits must be clear", "[websocket]") {
  for (const std::uint8_t rsv : {0x40, 0x20, 0x10}) {
    INFO("RSV bit " << unsigned{rsv});
    check_refused(client_frame(fin | rsv | op_text, "hi"), close_code::protocol_error, 1);
    check_refused(client_frame(fin | rsv | op_ping, ""), close_code::protocol_error, 1);
    check_refused(first_fragment("a") + client_frame(fin | rsv | op_continuation, "b"),
                  close_code::protocol_error, first_fragment("a").size() + 1);
  }
}

TEST_CASE("websocket: text, continuation and control opcodes only; binary is unsupported",
          "[websocket]") {
  for (unsigned opcode = 0; opcode < 16; ++opcode) {
    INFO("opcode " << opcode);
    const std::string frame = client_frame(static_cast<std::uint8_t>(fin | opcode), "");
    switch (opcode) {
      case op_continuation: check_refused(frame, close_code::protocol_error, 1); break;
      case op_text: check_accepted(frame, "\n"); break;
      case op_binary: {
        check_refused(frame, close_code::unsupported_data, 1);
        CHECK(feed_whole(frame).reason == "binary frames are not accepted");
        break;
      }
      case op_close: {
        const outcome o = feed_whole(frame);
        CHECK(o.close == close_code::no_status);
        CHECK_FALSE(o.violation);
        break;
      }
      case op_ping: CHECK(feed_whole(frame) == accepted("", "")); break;
      case op_pong: CHECK(feed_whole(frame) == accepted("")); break;
      default: check_refused(frame, close_code::protocol_error, 1); break;
    }
  }
  // A binary fragment inside a text message is refused all the same.
  check_refused(first_fragment("a") + client_frame(op_binary, "b"), close_code::unsupported_data,
                first_fragment("a").size() + 1);
}

TEST_CASE("websocket: control frames are final and carry at most 125 bytes", "[websocket]") {
  const std::string p125(125, 'p');
  CHECK(feed_whole(ping(p125)) == accepted("", p125));
  check_accepted(pong(p125), "");
  const outcome closed = feed_whole(close_frame(1000, std::string(123, 'r')));
  CHECK(closed.close == close_code::normal);
  CHECK(closed.reason == std::string(123, 'r'));
  CHECK_FALSE(closed.violation);
  for (const std::uint8_t opcode : {op_ping, op_pong, op_close}) {
    INFO("opcode " << unsigned{opcode});
    check_refused(client_frame(fin | opcode, std::string(126, 'p')), close_code::protocol_error, 2);
    check_refused(client_frame(fin | opcode, "", {.form = length_form::bits_64}),
                  close_code::protocol_error, 2);
    check_refused(client_frame(opcode, ""), close_code::protocol_error, 1);
  }
  // Between the fragments of a message, as they may be.
  check_accepted(first_fragment("a") + ping("p") + pong("q") + middle_fragment("b") + ping("") +
                     last_fragment("c"),
                 "abc\n");
}

TEST_CASE("websocket: continuations continue a message, and a text frame starts one",
          "[websocket]") {
  check_accepted(first_fragment("a") + middle_fragment("b") + middle_fragment("") +
                     last_fragment("c") + text("d"),
                 "abc\nd\n");
  check_refused(last_fragment("x"), close_code::protocol_error, 1);
  check_refused(middle_fragment("x"), close_code::protocol_error, 1);
  check_refused(text("a") + last_fragment("x"), close_code::protocol_error, text("a").size() + 1);
  check_refused(first_fragment("a") + last_fragment("b") + middle_fragment("x"),
                close_code::protocol_error,
                first_fragment("a").size() + last_fragment("b").size() + 1);
  check_refused(first_fragment("a") + text("b"), close_code::protocol_error,
                first_fragment("a").size() + 1);
  check_refused(first_fragment("a") + ping("") + first_fragment("b"), close_code::protocol_error,
                first_fragment("a").size() + ping("").size() + 1);
}

TEST_CASE("websocket: a payload length is in its shortest form, and below 2^63", "[websocket]") {
  using enum length_form;
  const auto sized = [](std::size_t n, length_form form) {
    return client_frame(fin | op_text, std::string(n, 'a'), {.form = form});
  };
  check_accepted(sized(125, bits_7), std::string(125, 'a') + "\n");
  check_refused(sized(125, bits_16), close_code::protocol_error, 4);
  check_refused(sized(0, bits_16), close_code::protocol_error, 4);
  check_accepted(sized(126, bits_16), std::string(126, 'a') + "\n");
  check_accepted(sized(65535, bits_16), std::string(65535, 'a') + "\n");
  check_refused(sized(65535, bits_64), close_code::protocol_error, 10);
  check_refused(sized(125, bits_64), close_code::protocol_error, 10);
  CHECK(feed_whole(sized(65536, bits_64)) == accepted(std::string(65536, 'a') + "\n"));
  // The top bit is refused on the first length byte; just below it, the message is too big.
  check_refused(client_frame(fin | op_text, "", {.declared = std::uint64_t{1} << 63}),
                close_code::protocol_error, 3);
  check_refused(client_frame(fin | op_text, "", {.declared = ~std::uint64_t{0}}),
                close_code::protocol_error, 3);
  check_refused(client_frame(fin | op_text, "", {.declared = (std::uint64_t{1} << 63) - 1}),
                close_code::message_too_big, 3);
}

TEST_CASE("websocket: a message over the limit is refused from its header", "[websocket]") {
  check_accepted(text(std::string(100, 'a')), std::string(100, 'a') + "\n", 100);
  check_refused(text(std::string(101, 'a')), close_code::message_too_big, 2, 100);
  // The header alone is enough.
  check_refused(text(std::string(101, 'a')).substr(0, 2), close_code::message_too_big, 2, 100);
  CHECK(feed_whole(text(std::string(101, 'a')), 100).reason == "the message is too big");
  // An extended length is refused on the byte that makes it too big: 256 on its first byte,
  // 301 on its second, 2^32 on the fourth of eight.
  check_accepted(text(std::string(300, 'a')), std::string(300, 'a') + "\n", 300);
  check_refused(client_frame(fin | op_text, "", {.declared = 256}), close_code::message_too_big, 3,
                100);
  check_refused(text(std::string(301, 'a')), close_code::message_too_big, 4, 300);
  check_refused(client_frame(fin | op_text, "", {.declared = std::uint64_t{1} << 32}),
                close_code::message_too_big, 6, 100);
  // The fragments of a message add up; control frames between them do not count.
  const std::string a60(60, 'a');
  check_accepted(first_fragment(a60) + ping(std::string(125, 'p')) + last_fragment(a60.substr(20)),
                 a60 + a60.substr(20) + "\n", 100);
  check_refused(first_fragment(a60) + last_fragment(std::string(41, 'b')),
                close_code::message_too_big, first_fragment(a60).size() + 2, 100);
  check_refused(first_fragment(a60) + middle_fragment(std::string(40, 'b')) + last_fragment("c"),
                close_code::message_too_big,
                first_fragment(a60).size() + middle_fragment(std::string(40, 'b')).size() + 2, 100);
  // Each message starts from nothing.
  check_accepted(text(std::string(100, 'a')) + text(std::string(100, 'b')),
                 std::string(100, 'a') + "\n" + std::string(100, 'b') + "\n", 100);
  // A limit of 0 takes empty messages only.
  check_accepted(text("") + first_fragment("") + last_fragment(""), "\n\n", 0);
  check_refused(text("a"), close_code::message_too_big, 2, 0);
}

TEST_CASE("websocket: text must be UTF-8, checked across frames and reads", "[websocket]") {
  const std::string sample = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x99\x82!";
  // A character may be split between fragments anywhere, with a ping between them.
  for (std::size_t cut = 0; cut <= sample.size(); ++cut) {
    INFO("cut at " << cut);
    check_accepted(
        first_fragment(sample.substr(0, cut)) + ping("p") + last_fragment(sample.substr(cut)),
        sample + "\n");
  }
  const std::size_t header = 6;
  // An invalid byte is refused where it is, after the text before it.
  check_refused(text("ab\xC0\x80"), close_code::invalid_payload, header + 3);
  CHECK(feed_whole(text("ab\xC0\x80")).text == "ab");
  check_refused(text("\xE2\x28\xA1"), close_code::invalid_payload, header + 2);
  check_refused(text("\xED\xA0\x80"), close_code::invalid_payload, header + 2);
  check_refused(text("\xF4\x90\x80\x80"), close_code::invalid_payload, header + 2);
  check_refused(first_fragment("a\xFF"), close_code::invalid_payload, header + 2);
  check_refused(first_fragment("\xED") + last_fragment("\xA0\x80"), close_code::invalid_payload,
                header + 1 + header + 1);
  CHECK(feed_whole(text("\xE2\x28")).reason == "the text is not valid UTF-8");
  // A message may not end inside a character; a fragment may.
  check_accepted(first_fragment("\xE2\x82") + last_fragment("\xAC"), "\xE2\x82\xAC\n");
  check_refused(text("ab\xE2\x82"), close_code::invalid_payload, header + 4);
  check_refused(first_fragment("\xE2\x82") + last_fragment(""), close_code::invalid_payload,
                header + 2 + header);
  CHECK(feed_whole(text("\xF0\x9F\x99")).reason == "the text ends inside a UTF-8 character");
}

TEST_CASE("websocket: a close frame is empty, or a valid code and a UTF-8 reason", "[websocket]") {
  const outcome empty = feed_whole(client_frame(fin | op_close, ""));
  CHECK(empty.close == close_code::no_status);
  CHECK_FALSE(empty.violation);
  CHECK(empty.reason.empty());
  check_refused(client_frame(fin | op_close, "\x03"), close_code::protocol_error, 2);
  for (const unsigned code : {1000u, 1001u, 1002u, 1003u, 1007u, 1008u, 1009u, 1010u, 1011u, 3000u,
                              3999u, 4000u, 4999u}) {
    INFO("code " << code);
    const outcome o = feed_whole(close_frame(code, "bye \xE2\x82\xAC"));
    CHECK(o.close == static_cast<close_code>(code));
    CHECK_FALSE(o.violation);
    CHECK(o.reason == "bye \xE2\x82\xAC");
    CHECK(feed_bytewise(close_frame(code)) == feed_whole(close_frame(code)));
  }
  for (const unsigned code :
       {0u, 999u, 1004u, 1005u, 1006u, 1012u, 1014u, 1015u, 1016u, 2000u, 2999u, 5000u, 65535u}) {
    INFO("code " << code);
    check_refused(close_frame(code, "bye"), close_code::protocol_error, 6 + 2);
  }
  check_refused(close_frame(1000, "ok \xFF"), close_code::invalid_payload, 6 + 2 + 4);
  check_refused(close_frame(1000, "ok \xE2\x82"), close_code::invalid_payload, 6 + 2 + 5);
  CHECK(feed_whole(close_frame(1000, "\xC0\xAF")).reason == "the close reason is not valid UTF-8");
  // A close ends a message in progress: its reason is checked on its own.
  const outcome mid = feed_whole(first_fragment("a\xE2\x82") + close_frame(1001, "\xC3\xA9"));
  CHECK(mid.close == close_code::going_away);
  CHECK(mid.text == "a\xE2\x82");
  CHECK(mid.reason == "\xC3\xA9");
  // Nothing after a close is read.
  const outcome garbage = feed_bytewise(close_frame(1000, "x") + "\xFF\xFF\xFF");
  CHECK(garbage.close == close_code::normal);
  CHECK(garbage.closed_after == close_frame(1000, "x").size());
}

TEST_CASE("websocket: a pong is asked for with the last complete ping's payload", "[websocket]") {
  frame_reader reader(roomy);
  outcome o;
  std::size_t fed = 0;
  const std::string two = ping("two");
  give(reader, ping("one") + two.substr(0, 8), o, fed);
  CHECK(o.last_pong == "one");
  CHECK(reader.pong_payload() == "one");
  o.last_pong.reset();
  give(reader, two.substr(8), o, fed);
  CHECK(o.last_pong == "two");
  o.last_pong.reset();
  give(reader, pong("three") + text("t"), o, fed);
  CHECK_FALSE(o.last_pong);
  CHECK(reader.pong_payload() == "two");
  give(reader, ping("4") + ping("5") + ping(""), o, fed);
  CHECK(o.last_pong == "");
}

TEST_CASE("websocket: a reader keeps little state", "[websocket]") {
  STATIC_REQUIRE(sizeof(frame_reader) < 320);
}

TEST_CASE(
    "websocket: text headers take 2, 4 or 10 bytes, unmasked, the length in its shortest form",
    "[websocket]") {
  const std::pair<std::size_t, std::size_t> cases[] = {
      {0, 2}, {1, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {(1ull << 32) + 5, 10},
  };
  for (const auto& [payload, size] : cases) {
    INFO("payload " << payload);
    std::array<char, ws::max_header_bytes> header{};
    const std::size_t written = ws::encode_text_header(payload, header);
    CHECK(written == size);
    const server_frame f = decode_server_header(std::string_view(header.data(), written));
    CHECK(f.fin);
    CHECK(f.rsv == 0);
    CHECK(f.opcode == op_text);
    CHECK_FALSE(f.masked);
    CHECK(f.length == payload);
    CHECK(f.header_size == written);
    CHECK(f.shortest);
  }
}

TEST_CASE("websocket: a text frame the server makes is read back once masked", "[websocket]") {
  for (const std::size_t n : {0, 125, 126, 65535, 65536}) {
    std::array<char, ws::max_header_bytes> header{};
    const std::string payload(n, 'z');
    const std::string frame(header.data(), ws::encode_text_header(n, header));
    CHECK(feed_whole(masked(frame + payload)) == accepted(payload + "\n"));
  }
}

TEST_CASE("websocket: close, ping and pong frames of the server", "[websocket]") {
  CHECK(ws::encode_close(close_code::normal, "bye") == "\x88\x05\x03\xE8"s + "bye");
  CHECK(ws::encode_close(close_code::no_status, "dropped") == "\x88\x00"s);
  CHECK(ws::encode_close(close_code::message_too_big, "") == "\x88\x02\x03\xF1"s);
  CHECK(ws::encode_ping("ping") == "\x89\x04ping"s);
  CHECK(ws::encode_pong("") == "\x8A\x00"s);
  const std::string p125(125, 'p');
  CHECK(control_payload(ws::encode_ping(p125), op_ping) == p125);
  CHECK(control_payload(ws::encode_pong(p125), op_pong) == p125);
  CHECK(feed_whole(masked(ws::encode_ping("are you there?"))) == accepted("", "are you there?"));
  CHECK(feed_whole(masked(ws::encode_pong("x"))) == accepted(""));
  const outcome closed = feed_whole(masked(ws::encode_close(close_code::going_away, "restart")));
  CHECK(closed.close == close_code::going_away);
  CHECK_FALSE(closed.violation);
  CHECK(closed.reason == "restart");
}

TEST_CASE("websocket: a close reason is cut to 123 bytes between characters", "[websocket]") {
  const std::string euro = "\xE2\x82\xAC";
  const std::string smile = "\xF0\x9F\x99\x82";
  const std::pair<std::string, std::size_t> cases[] = {
      {std::string(123, 'a'), 123},
      {std::string(124, 'a'), 123},
      {std::string(200, 'a'), 123},
      {std::string(122, 'a') + "\xC3\xA9", 122},
      {std::string(121, 'a') + "\xC3\xA9", 123},
      {std::string(121, 'a') + euro, 121},
      {std::string(120, 'a') + euro, 123},
      {std::string(120, 'a') + smile, 120},
      {std::string(119, 'a') + smile, 123},
      {std::string(119, 'a') + smile + "b", 123},
      {std::string(118, 'a') + smile + "b", 123},
      {std::string(41, 'a') + euro + euro + euro + euro + euro + euro + euro + euro + euro + euro +
           euro + euro + euro + euro + euro + euro + euro + euro + euro + euro + euro + euro +
           euro + euro + euro + euro + euro + euro,
       122},
  };
  for (const auto& [reason, kept] : cases) {
    INFO("reason of " << reason.size() << " bytes");
    const std::string frame = ws::encode_close(close_code::policy_violation, reason);
    const std::string payload = control_payload(frame, op_close);
    REQUIRE(payload.size() >= 2);
    CHECK(payload.substr(0, 2) == "\x03\xF0");
    CHECK(payload.substr(2) == reason.substr(0, kept));
    CHECK(is_valid_utf8(payload.substr(2)));
    const outcome o = feed_whole(masked(frame));
    CHECK(o.close == close_code::policy_violation);
    CHECK(o.reason == reason.substr(0, kept));
  }
  CHECK(chat::protocol::utf8_prefix("", 0).empty());
  CHECK(chat::protocol::utf8_prefix("\xC3\xA9", 1).empty());
  CHECK(chat::protocol::utf8_prefix("a\xC3\xA9", 5) == "a\xC3\xA9");
}

namespace {

struct sample {
  const char* what;
  std::string bytes;
};

// Both sides of each edge, and runs of ASCII long enough for the eight-byte skip.
const sample utf8_samples[] = {
    {"empty", ""},
    {"ASCII run", "hello, world, and more ASCII"},
    {"U+0080 and U+07FF", "\xC2\x80\xDF\xBF"},
    {"U+0800 and U+FFFF", "\xE0\xA0\x80\xEF\xBF\xBF"},
    {"U+D7FF and U+E000 around the surrogates", "\xED\x9F\xBF\xEE\x80\x80"},
    {"U+10000 and U+10FFFF", "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"},
    {"mixed text", "caf\xC3\xA9 au lait \xE2\x82\xAC 5 \xF0\x9F\x99\x82 ok"},
    {"overlong NUL", "ab\xC0\x80"},
    {"overlong 2-byte, lead C1", "\xC1\xBF"},
    {"overlong 3-byte", "abcdefgh\xE0\x9F\xBF"},
    {"overlong 4-byte", "\xF0\x8F\xBF\xBF"},
    {"surrogate U+D800", "\xED\xA0\x80"},
    {"surrogate U+DFFF", "x\xED\xBF\xBFy"},
    {"U+110000", "\xF4\x90\x80\x80"},
    {"lead F5", "\xF5\x80\x80\x80"},
    {"byte FF", "ok\xFF"},
    {"stray continuation", "abcdefghij\x80"},
    {"truncated 2-byte", "caf\xC3"},
    {"truncated 3-byte", "\xE2\x82"},
    {"truncated 4-byte", "abcdefgh\xF0\x9D\x84"},
    {"truncated 3-byte before ASCII", "\xE2\x82\x41"},
    {"lead after lead", "\xC3\xC3\xA9"},
};

// Feeds `pieces`; returns how many bytes were valid before the first refused one (all of them
// if none was) and whether the text is valid and complete.
std::pair<std::size_t, bool> validate(const std::vector<std::string_view>& pieces) {
  utf8_validator v;
  std::size_t valid = 0;
  bool refused = false;
  for (const std::string_view piece : pieces) {
    const std::size_t taken = v.feed(piece);
    if (refused) CHECK(taken == 0);
    CHECK(taken <= piece.size());
    if (!refused) valid += taken;
    if (taken < piece.size()) refused = true;
    CHECK(v.ok() == !refused);
  }
  return {valid, v.complete()};
}

}  // namespace

TEST_CASE("utf8_validator agrees with is_valid_utf8 however the text is cut", "[utf8][websocket]") {
  for (const sample& s : utf8_samples) {
    INFO(s.what);
    const std::string_view text = s.bytes;
    const auto whole = validate({text});
    CHECK(whole.second == is_valid_utf8(text));
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
    CHECK(validate(bytes) == whole);
    for (std::size_t i = 0; i <= text.size(); ++i) {
      for (std::size_t j = i; j <= text.size(); ++j) {
        INFO("cut at " << i << " and " << j);
        CHECK(validate({text.substr(0, i), text.substr(i, j - i), text.substr(j)}) == whole);
      }
    }
  }
}

TEST_CASE("utf8_validator stops at the first byte that cannot continue the text",
          "[utf8][websocket]") {
  const std::pair<std::string, std::size_t> cases[] = {
      {"ab\xC0\x80", 2},      {"\xE2\x28\xA1", 1},     {"\xE0\x9F\xBF", 1},
      {"\xED\xA0\x80", 1},    {"\xF4\x90\x80\x80", 1}, {"\xE2\x82\x41", 2},
      {"abcdefghij\x80", 10}, {"\xC3\xC3\xA9", 1},     {"\xF0\x9F\x99\x82\xFF", 4},
  };
  for (const auto& [text, at] : cases) {
    INFO(escaped(text));
    utf8_validator v;
    CHECK(v.feed(text) == at);
    CHECK_FALSE(v.ok());
    CHECK_FALSE(v.complete());
    CHECK(v.feed("more") == 0);
    v.reset();
    CHECK(v.feed("fine") == 4);
    CHECK(v.complete());
  }
  utf8_validator v;
  CHECK(v.feed("\xF0\x9F") == 2);
  CHECK(v.ok());
  CHECK_FALSE(v.complete());
  CHECK(v.feed("\x99\x82") == 2);
  CHECK(v.complete());
}
