#include "bench/ws_stream.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <boost/asio/error.hpp>

#include "bench/tls_stream.hpp"
#include "protocol/websocket.hpp"

namespace chat::bench::detail {

namespace asio = boost::asio;

std::string websocket_upgrade_request(std::string_view host_port) {
  // A fixed key: chat-bench does not check the server's accept key, only
  // its 101.
  return "GET /ws HTTP/1.1\r\nHost: " + std::string(host_port) +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

std::string_view ws_stream::frame(std::string_view lines) {
  framed.clear();
  while (!lines.empty()) {
    const std::size_t end = std::min(lines.find('\n'), lines.size());
    const std::string_view line = lines.substr(0, end);
    lines.remove_prefix(std::min(end + 1, lines.size()));
    // The server's header for such a frame, with the mask bit a client's
    // frames must have.
    std::array<char, protocol::websocket::max_header_bytes> head{};
    const std::size_t size = protocol::websocket::encode_text_header(line.size(), head);
    head[1] = static_cast<char>(head[1] | 0x80);
    framed.append(head.data(), size);
    framed.append(4, '\0');  // the mask
    framed += line;
  }
  return framed;
}

std::size_t read_available(ws_stream& s, asio::mutable_buffer into, boost::system::error_code& ec) {
  if (s.closed) {
    ec = asio::error::eof;
    return 0;
  }
  char* const data = static_cast<char*>(into.data());
  const asio::mutable_buffer room(data, into.size() - 1);
  const std::size_t n =
      s.tls != nullptr ? read_available(*s.tls, room, ec) : s.socket.read_some(room, ec);
  s.filled = !ec && n == room.size();
  if (ec) return 0;
  // In place: a frame's header is never handed out, so the text written
  // stays behind the bytes still to read, but for a line's LF when the read
  // began inside its frame's payload. That LF waits for the next header's
  // bytes to make room, or goes to the spare byte past the input.
  std::size_t out = 0;
  bool newline_due = false;
  for (std::size_t at = 0; at < n;) {
    if (!s.in_payload) {
      s.header[s.header_have++] = static_cast<unsigned char>(data[at++]);
      if (s.header_have == 2) {
        const unsigned length = s.header[1] & 0x7f;
        s.header_need = length == 126 ? 4 : length == 127 ? 10 : 2;
      }
      if (s.header_have < s.header_need) continue;
      std::uint64_t length = s.header[1] & 0x7f;
      if (s.header_need > 2) {
        length = 0;
        for (std::uint8_t i = 2; i < s.header_need; ++i) length = (length << 8) | s.header[i];
      }
      const unsigned opcode = s.header[0] & 0x0f;
      if (opcode == 0x8) {
        s.closed = true;
        break;
      }
      s.skipping = opcode != 0x1;  // pings and pongs carry no line
      s.payload_left = length;
      s.in_payload = true;
      s.header_have = 0;
      s.header_need = 2;
    }
    if (newline_due && out < at) {
      data[out++] = '\n';
      newline_due = false;
    }
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(s.payload_left, n - at));
    if (!s.skipping) {
      std::memmove(data + out, data + at, take);
      out += take;
    }
    at += take;
    s.payload_left -= take;
    if (s.payload_left == 0) {
      s.in_payload = false;
      if (!s.skipping) newline_due = true;
    }
  }
  if (newline_due) data[out++] = '\n';
  return out;
}

}  // namespace chat::bench::detail
