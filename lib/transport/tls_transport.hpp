#pragma once

#include <cstddef>
#include <span>

#include <boost/system/error_code.hpp>

#include "server/frame.hpp"
#include "transport/stream.hpp"

struct ssl_st;

namespace chat::transport {

// TLS on a TCP socket: an OpenSSL connection reading and writing the socket
// itself, driven by readiness waits like tcp_transport.
//
// Not asio::ssl::stream: that one keeps two 17 KiB record buffers per
// connection for its whole life, and OpenSSL's own buffers beside them. Here
// OpenSSL reads the socket directly and, with SSL_MODE_RELEASE_BUFFERS
// (tls_credentials), gives its buffers back whenever they are empty, so an
// idle TLS client costs its SSL object and nothing more. Bytes OpenSSL has
// already decrypted are never left behind: a read goes on until OpenSSL
// wants more from the socket (may_have_more).
class tls_transport {
public:
  static constexpr const char* name = "tls";
  // The TLS handshake comes before the first byte of the protocol.
  static constexpr bool negotiates = true;
  static constexpr bool encrypted = true;
  static constexpr bool carries_messages = false;

  // Takes ownership of `ssl`, a server-side connection from tls_credentials.
  tls_transport(socket_type socket, ssl_st* ssl) noexcept;
  tls_transport(tls_transport&& other) noexcept;
  tls_transport& operator=(tls_transport&&) = delete;
  ~tls_transport();

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& socket() noexcept { return socket_; }

  // Makes the socket non-blocking and hands it to OpenSSL.
  bool prepare(boost::system::error_code& ec);

  // One step of the handshake: no error once it is done, would_block while
  // it waits for the socket (handshake_wait()), else why it failed.
  boost::system::error_code handshake();
  wait_type handshake_wait() const noexcept { return want_; }

  // Decrypted bytes, up to `into.size()`: everything OpenSSL has and can read
  // from the socket now. would_block when there is none; eof on close_notify
  // or when the peer closed.
  std::size_t read_some(std::span<char> into, boost::system::error_code& ec);
  // After a read: whether OpenSSL stopped for lack of room rather than for
  // lack of input. The reader then reads again instead of waiting.
  bool may_have_more(std::size_t, std::size_t) const noexcept { return !drained_; }
  // What the last read that would block waits for: a TLS read may need to
  // write (a key update), a write may need to read.
  wait_type read_wait() const noexcept { return want_; }

  // Encrypts and writes up to one record's worth of `frames` (the first from
  // `skip_first` on), coalesced so that small frames share a record. After
  // would_block it must be called again with the same frames: OpenSSL
  // expects the same bytes again.
  std::size_t write_some(std::span<const server::frame> frames, std::size_t skip_first,
                         boost::system::error_code& ec);
  wait_type write_wait() const noexcept { return want_; }

  // Sends close_notify (if the socket takes it now) and ends the stream.
  void shutdown_send() noexcept;
  void close() noexcept;

private:
  // Maps the outcome of an OpenSSL call that returned `ok` to an error code,
  // noting what a would_block waits for.
  boost::system::error_code outcome(int ok);

  socket_type socket_;
  ssl_st* ssl_;
  wait_type want_ = socket_type::wait_read;
  bool drained_ = true;
};

}  // namespace chat::transport
