#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "client/line_buffer.hpp"
#include "client/tls_options.hpp"

namespace chat::client {

namespace detail {
// TCP or TLS over it. Defined in connection.cpp: only that file sees
// asio::ssl and OpenSSL, whose headers weigh on every build.
class byte_stream;
}  // namespace detail

// A client's connection to a chat server, over TCP or TLS, read and written
// as frames (LF-ended lines). One read_frame and one write may be in flight
// at once, from different coroutines; two of the same kind may not.
class connection {
public:
  // The server's --max-line bounds what clients send, not what it sends: a
  // message JSON-escaped (up to 6 bytes per byte typed) or a long user list
  // is bigger. This limit only guards against a runaway peer.
  static constexpr std::size_t default_max_frame = 1 << 20;

  // Resolves `host` and connects to the first address that accepts; with
  // `tls`, then completes a TLS handshake, checking the server's certificate
  // against `host`. Throws std::runtime_error whose what() names host:port
  // and the reason, a std::system_error when the socket failed.
  static boost::asio::awaitable<connection> connect(boost::asio::any_io_executor executor,
                                                    std::string host, std::uint16_t port,
                                                    std::optional<tls_options> tls = {});

  // Plain TCP over a connected socket.
  explicit connection(boost::asio::ip::tcp::socket socket,
                      std::size_t max_frame = default_max_frame);
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  // The next frame without its line end; nullopt once the server has closed.
  // Throws std::system_error on a socket error or a frame over max_frame.
  boost::asio::awaitable<std::optional<std::string>> read_frame();

  // Writes all of `bytes`: one or more frames, each ended by LF. Throws
  // std::system_error.
  boost::asio::awaitable<void> write(std::string_view bytes);

  // Turns on TCP keepalive probes so that a server which vanishes without
  // closing (crash of its host, unplugged network) fails a pending read
  // within about a minute instead of never.
  void enable_keepalive() noexcept;

  // Closes the socket; operations in flight end with operation_aborted.
  void close() noexcept;

private:
  connection(std::unique_ptr<detail::byte_stream> stream, std::size_t max_frame);

  std::unique_ptr<detail::byte_stream> stream_;
  line_buffer inbox_;
  // Set at EOF. Asio's reactor would not report it twice: a read after it
  // would wait forever.
  bool closed_by_peer_ = false;
};

// "host:port", with IPv6 literals bracketed.
std::string format_address(std::string_view host, std::uint16_t port);

}  // namespace chat::client
