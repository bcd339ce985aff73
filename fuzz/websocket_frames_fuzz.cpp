// The WebSocket frame_reader against a model of RFC 6455 as the server reads it, written the
// slow way over the whole stream at once, fed three ways: in one read, in reads of the sizes
// the input picks (empty ones too), and one byte per read. Every way must hand out the model's
// text (each message unmasked, LF and CR as spaces, a '\n' after it; up to the bad byte when
// one comes) and end as the model does; one byte per read, each ping must ask for its pong and
// the close must come with the very byte that decides it. Each read writes nothing past its
// input but a final '\n' into the byte of room after it, never hands out more text than the
// input so far, and hands out nothing once closed.
//
// Input: one byte for max_message_bytes (16..4096), one for the read sizes, then the stream.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "protocol/utf8.hpp"
#include "protocol/websocket.hpp"

namespace {

using chat::fuzz::require;
using chat::protocol::websocket::close_code;
using chat::protocol::websocket::frame_reader;

// What the stream should give.
struct model_result {
  std::string text;
  std::vector<std::string> pings;
  std::optional<unsigned> close;
  bool violation = false;
  std::string client_reason;
  // The bytes it takes to decide the close: the deciding byte is the last of them.
  std::size_t decided_at = 0;
};

constexpr std::size_t npos = std::string_view::npos;

struct scan_result {
  std::size_t bad = npos;  // the first byte no valid text can have there
  std::size_t boundary;    // the end of the last whole character before the end or `bad`
};

// RFC 3629 decoded the slow way from a character boundary: a byte is bad as soon as no bytes
// after it could make a valid character (one that is not overlong, not a surrogate, not past
// U+10FFFF) of the code points the sequence so far may still become.
scan_result scan_utf8(std::string_view text, std::size_t from) {
  std::size_t i = from;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length;
    std::uint32_t code_point;
    std::uint32_t smallest;
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, smallest = 0x10000;
    } else {
      return {i, i};
    }
    for (std::size_t k = 0; k < length; ++k) {
      if (k > 0) {
        if (i + k >= text.size()) return {npos, i};
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0) != 0x80) return {i + k, i};
        code_point = code_point << 6 | (next & 0x3F);
      }
      const unsigned bits_to_come = 6 * static_cast<unsigned>(length - 1 - k);
      const std::uint32_t lo = code_point << bits_to_come;
      const std::uint32_t hi = lo | ((std::uint32_t{1} << bits_to_come) - 1);
      if (hi < smallest || lo > 0x10FFFF || (lo >= 0xD800 && hi <= 0xDFFF)) return {i + k, i};
    }
    i += length;
  }
  return {npos, i};
}

bool is_valid_close_code(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

std::string spaced(std::string_view bytes) {
  std::string out(bytes);
  for (char& ch : out) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return out;
}

model_result model(std::string_view s, std::uint64_t max_message) {
  model_result r;
  const auto refuse = [&r](unsigned code, std::size_t deciding_byte) {
    r.close = code;
    r.violation = true;
    r.decided_at = deciding_byte + 1;
    return r;
  };
  bool in_message = false;
  std::uint64_t message_bytes = 0;
  std::string message;         // the message in progress, unmasked
  std::size_t message_ok = 0;  // where its characters checked so far end
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto b0 = static_cast<std::uint8_t>(s[pos]);
    const unsigned op = b0 & 0x0F;
    const bool fin = (b0 & 0x80) != 0;
    const bool control = op >= 8;
    if (b0 & 0x70) return refuse(1002, pos);
    if (op == 2) return refuse(1003, pos);
    if (op != 0 && op != 1 && op != 8 && op != 9 && op != 10) return refuse(1002, pos);
    if (op == 0 && !in_message) return refuse(1002, pos);
    if (op == 1 && in_message) return refuse(1002, pos);
    if (control && !fin) return refuse(1002, pos);
    if (op == 1) {
      in_message = true;
      message_bytes = 0;
      message.clear();
      message_ok = 0;
    }
    if (++pos == s.size()) return r;

    const auto b1 = static_cast<std::uint8_t>(s[pos]);
    if (!(b1 & 0x80)) return refuse(1002, pos);
    const unsigned length7 = b1 & 0x7F;
    if (control && length7 > 125) return refuse(1002, pos);
    if (op == 8 && length7 == 1) return refuse(1002, pos);
    const std::uint64_t allowance = max_message - message_bytes;
    if (!control && length7 < 126 && length7 > allowance) return refuse(1009, pos);
    ++pos;

    std::uint64_t length = length7;
    if (length7 >= 126) {
      const std::size_t extended = length7 == 126 ? 2 : 8;
      const std::uint64_t least_in_form = extended == 2 ? 126 : 65536;
      length = 0;
      for (std::size_t k = 0; k < extended; ++k, ++pos) {
        if (pos == s.size()) return r;
        const auto byte = static_cast<std::uint8_t>(s[pos]);
        if (extended == 8 && k == 0 && (byte & 0x80)) return refuse(1002, pos);
        length = length << 8 | byte;
        const std::size_t to_come = extended - 1 - k;
        if (to_come == 0) {
          if (length < least_in_form) return refuse(1002, pos);
          if (length > allowance) return refuse(1009, pos);
        } else {
          const std::uint64_t least = length << (8 * to_come);
          if (least >= least_in_form && least > allowance) return refuse(1009, pos);
        }
      }
    }
    if (s.size() - pos < 4) return r;
    const std::string_view mask = s.substr(pos, 4);
    pos += 4;
    const std::size_t available =
        static_cast<std::size_t>(std::min<std::uint64_t>(length, s.size() - pos));
    std::string payload(s.substr(pos, available));
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= mask[i % 4];
    const std::size_t payload_at = pos;
    const bool whole = available == length;
    pos += available;

    switch (op) {
      case 0:
      case 1: {
        message_bytes += length;
        const std::size_t start = message.size();
        message += payload;
        const scan_result scan = scan_utf8(message, message_ok);
        if (scan.bad != npos) {
          r.text += spaced(std::string_view(message).substr(start, scan.bad - start));
          return refuse(1007, payload_at + (scan.bad - start));
        }
        message_ok = scan.boundary;
        r.text += spaced(payload);
        if (!whole) return r;
        if (fin) {
          if (message_ok != message.size()) return refuse(1007, pos - 1);
          r.text += '\n';
          in_message = false;
        }
        break;
      }
      case 8: {
        // The code as soon as both its bytes are in, the reason as it comes.
        unsigned code = static_cast<unsigned>(close_code::no_status);
        std::string_view reason;
        if (available >= 2) {
          code = static_cast<std::uint8_t>(payload[0]) << 8 | static_cast<std::uint8_t>(payload[1]);
          if (!is_valid_close_code(code)) return refuse(1002, payload_at + 1);
          reason = std::string_view(payload).substr(2);
          const scan_result scan = scan_utf8(reason, 0);
          if (scan.bad != npos) return refuse(1007, payload_at + 2 + scan.bad);
          if (whole && scan.boundary != reason.size()) return refuse(1007, pos - 1);
        }
        if (!whole) return r;
        r.close = code;
        r.client_reason = std::string(reason);
        r.decided_at = pos;
        return r;
      }
      case 9:
        if (!whole) return r;
        r.pings.push_back(payload);
        break;
      default: break;  // a pong
    }
  }
  return r;
}

// What the reader handed out, fed one way.
struct fed_result {
  std::string text;
  std::vector<std::string> pongs;
  std::optional<unsigned> close;
  bool violation = false;
  std::string reason;
  std::size_t closed_after = 0;
};

class feeder {
public:
  explicit feeder(std::size_t max_message) : reader_(max_message) {}

  void give(std::string_view piece) {
    // Exactly one byte of room after the input, so that ASan sees a write past it.
    const auto buffer = std::make_unique<char[]>(piece.size() + 1);
    std::copy(piece.begin(), piece.end(), buffer.get());
    buffer[piece.size()] = '#';
    const frame_reader::output out = reader_.read({buffer.get(), piece.size() + 1}, piece.size());
    fed_ += piece.size();
    require(out.text_bytes <= piece.size() + 1, "a read's text fits its input and the room");
    require(buffer[piece.size()] == (out.text_bytes == piece.size() + 1 ? '\n' : '#'),
            "nothing but a '\\n' is written past the input");
    if (got_.close) {
      require(out.text_bytes == 0 && !out.pong_due, "nothing is handed out after the close");
      require(out.close && static_cast<unsigned>(*out.close) == *got_.close &&
                  out.violation == got_.violation && out.reason == got_.reason,
              "a closed reader says the same close again");
      return;
    }
    got_.text.append(buffer.get(), out.text_bytes);
    require(got_.text.size() <= fed_, "the text never outgrows the input");
    if (out.pong_due) {
      require(reader_.pong_payload().size() <= 125, "a pong payload fits a control frame");
      got_.pongs.emplace_back(reader_.pong_payload());
    }
    if (out.close) {
      got_.close = static_cast<unsigned>(*out.close);
      got_.violation = out.violation;
      got_.reason = std::string(out.reason);
      got_.closed_after = fed_;
      require(!out.violation || !out.reason.empty(), "a violation gives a reason");
    } else {
      require(!out.violation && out.reason.empty(), "no verdict without a close");
    }
  }

  const fed_result& result() const { return got_; }

private:
  frame_reader reader_;
  std::size_t fed_ = 0;
  fed_result got_;
};

void check_against(const fed_result& got, const model_result& want, std::string_view way) {
  require(got.text == want.text, "the reader hands out the model's text", way);
  require(got.close == want.close, "the reader closes as the model does", way);
  require(got.violation == want.violation, "a violation is one in the model too", way);
  if (got.close && !got.violation) {
    require(got.reason == want.client_reason, "the client's close reason is its own", way);
  }
  if (want.pings.empty()) {
    require(got.pongs.empty(), "no pong without a ping", way);
  } else {
    require(!got.pongs.empty() && got.pongs.back() == want.pings.back(),
            "the last pong asked for answers the last ping", way);
  }
}

// Each complete line valid UTF-8, and no LF or CR inside it.
void check_lines(std::string_view text) {
  std::size_t from = 0;
  for (std::size_t lf; (lf = text.find('\n', from)) != npos; from = lf + 1) {
    const std::string_view line = text.substr(from, lf - from);
    require(chat::protocol::is_valid_utf8(line), "each message is valid UTF-8", line);
    require(line.find('\r') == npos, "no CR inside a message", line);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chat::fuzz::input_reader in(chat::fuzz::as_text(data, size));
  const std::size_t max_message = 16 * (std::size_t{in.byte()} + 1);
  const unsigned piece_seed = in.byte();
  const std::string_view stream = in.rest();

  const model_result want = model(stream, max_message);
  check_lines(want.text);

  {
    feeder f(max_message);
    f.give(stream);
    check_against(f.result(), want, "in one read");
    require(f.result().pongs.size() <= 1, "one read asks for one pong at most");
    check_lines(f.result().text);
  }
  {
    feeder f(max_message);
    // Read sizes 0..63 from a small linear congruential sequence.
    unsigned state = piece_seed;
    for (std::size_t pos = 0; pos < stream.size();) {
      state = state * 1103515245u + 12345u;
      const std::string_view piece = stream.substr(pos, (state >> 16) % 64);
      f.give(piece);
      pos += piece.size();
    }
    check_against(f.result(), want, "in pieces");
    require(f.result().pongs.size() <= want.pings.size(), "no more pongs than pings");
  }
  {
    feeder f(max_message);
    for (std::size_t pos = 0; pos < stream.size(); ++pos) f.give(stream.substr(pos, 1));
    // Past the end too: a closed reader must say so again.
    if (f.result().close) f.give("\x81\x80");
    check_against(f.result(), want, "byte by byte");
    require(f.result().pongs == want.pings, "byte by byte, each ping asks for its pong");
    require(f.result().closed_after == want.decided_at,
            "the close comes with the byte that decides it");
  }
  return 0;
}
