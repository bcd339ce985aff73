#pragma once

// chat-bench over WebSocket (chat-server --http-port): one connection's
// framing. Internal to chat_bench and included by client.cpp alone.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace chat::bench::detail {

// The upgrade request for /ws on `host_port`.
std::string websocket_upgrade_request(std::string_view host_port);

struct tls_stream;

// WebSocket over a client's socket, or over TLS on it (--ws --tls), which the
// client keeps. The reader turns the server's frames (text, never
// fragmented) back into lines in place, keeping a frame cut by the end of a
// read for the next; the sender wraps each line of a batch in a frame of its
// own. Their states are apart: the reader and the sender of a client may be
// at work at once.
struct ws_stream {
  ws_stream(boost::asio::ip::tcp::socket& s, tls_stream* over) : socket(s), tls(over) {}

  // Each line of `lines` (LF-ended) as a client text frame, in a buffer
  // reused from call to call. The mask is zero: clients must mask, and a
  // zero key is a key (RFC 6455 5.3), one that costs the load generator no
  // pass over the bytes; the server unmasks all the same.
  std::string_view frame(std::string_view lines);

  boost::asio::ip::tcp::socket& socket;
  tls_stream* const tls;  // null: the frames go on the socket itself

  // Reader: the header being read, what is left of the payload, and whether
  // that payload is text to hand out or a control frame to skip.
  std::array<unsigned char, 10> header{};
  std::uint8_t header_have = 0;
  std::uint8_t header_need = 2;
  std::uint64_t payload_left = 0;
  bool in_payload = false;
  bool skipping = false;
  bool closed = false;  // the server's close frame came: eof from the next read
  // The last read filled the buffer beneath: TLS may hold more input, which
  // the socket will not signal. What read_available returns cannot say so,
  // since frame headers are taken out of it.
  bool filled = false;

  // Sender.
  std::string framed;
};

// Reads what the socket has (up to into.size() - 1 bytes: a line's LF may
// need the byte after) and returns the lines it completes or continues, in
// `into`; would_block when there was nothing, eof after the close frame.
// Sets `filled`.
std::size_t read_available(ws_stream& s, boost::asio::mutable_buffer into,
                           boost::system::error_code& ec);

}  // namespace chat::bench::detail
