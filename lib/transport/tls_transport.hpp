#pragma once

#include <cstddef>
#include <span>

#include <sys/uio.h>

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
  wait_type handshake_wait() const noexcept { return read_want_; }
  // Whether OpenSSL holds input that the socket will not signal, so that the
  // session reads before it waits. Once, after the handshake.
  bool holds_input() const noexcept;

  // Decrypted bytes, up to `into.size()`: everything OpenSSL has and can read
  // from the socket now. would_block when there is none; eof on close_notify
  // or when the peer closed.
  std::size_t read_some(std::span<char> into, boost::system::error_code& ec);
  // After a read: whether OpenSSL stopped for lack of room rather than for
  // lack of input. The reader then reads again instead of waiting.
  bool may_have_more(std::size_t, std::size_t) const noexcept { return !drained_; }
  // What the last read that would block waits for: a TLS read may need to
  // write (a key update), a write may need to read. Reads and writes keep
  // their own: a write (a WebSocket pong) made beside a read must not change
  // what the reader waits for.
  wait_type read_wait() const noexcept { return read_want_; }

  // Encrypts and writes up to one record's worth of `frames` (the first from
  // `skip_first` on), coalesced so that small frames share a record. After
  // would_block it must be called again with the same frames: OpenSSL
  // expects the same bytes again.
  std::size_t write_some(std::span<const server::frame> frames, std::size_t skip_first,
                         boost::system::error_code& ec);
  wait_type write_wait() const noexcept { return write_want_; }

  // The byte layer beneath WebSocket (websocket_transport), like TCP's: up
  // to one record of the bytes of `pieces` in order, copied into one record
  // unless the first piece fills one by itself (then written from where it
  // is). Bytes past write_limit are not looked at.
  //
  // OpenSSL's rule: after a write that would block, OpenSSL has already
  // made the record, and the next write must begin with the same bytes, at
  // least as many (write_pending() says so until a write succeeds). The
  // bytes may have moved (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
  static constexpr std::size_t write_limit = 16 * 1024;
  std::size_t write_gathered(std::span<const iovec> pieces, boost::system::error_code& ec);
  bool write_pending() const noexcept { return write_pending_; }

  // Sends close_notify (if the socket takes it now) and ends the stream.
  void shutdown_send() noexcept;
  void close() noexcept;

private:
  // Maps the outcome of an OpenSSL call that returned `ok` to an error code,
  // noting in `want` what a would_block waits for.
  boost::system::error_code outcome(int ok, wait_type& want);

  socket_type socket_;
  ssl_st* ssl_;
  wait_type read_want_ = socket_type::wait_read;
  wait_type write_want_ = socket_type::wait_write;
  bool drained_ = true;
  bool write_pending_ = false;
};

}  // namespace chat::transport
