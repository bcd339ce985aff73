#include "transport/tls_transport.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <utility>

#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "transport/gathered_send.hpp"

namespace chat::transport {

namespace asio = boost::asio;

tls_transport::tls_transport(socket_type socket, ssl_st* ssl) noexcept
    : socket_(std::move(socket)), ssl_(ssl) {}

tls_transport::tls_transport(tls_transport&& other) noexcept
    : socket_(std::move(other.socket_)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      read_want_(other.read_want_),
      write_want_(other.write_want_),
      drained_(other.drained_),
      write_pending_(other.write_pending_) {}

tls_transport::~tls_transport() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

bool tls_transport::prepare(boost::system::error_code& ec) {
  socket_.non_blocking(true, ec);
  if (!ec) socket_.native_non_blocking(true, ec);
  if (ec) return false;
  if (SSL_set_fd(ssl_, socket_.native_handle()) != 1) {
    ec = asio::error::no_memory;
    return false;
  }
  SSL_set_accept_state(ssl_);
  return true;
}

boost::system::error_code tls_transport::outcome(int ok, wait_type& want) {
  if (ok > 0) return {};
  switch (SSL_get_error(ssl_, ok)) {
    case SSL_ERROR_WANT_READ: want = socket_type::wait_read; return asio::error::would_block;
    case SSL_ERROR_WANT_WRITE: want = socket_type::wait_write; return asio::error::would_block;
    case SSL_ERROR_ZERO_RETURN: return asio::error::eof;
    case SSL_ERROR_SYSCALL:
      if (errno != 0) return {errno, boost::system::system_category()};
      return asio::error::eof;
    default: {
      const unsigned long error = ERR_get_error();
      if (error == 0) return asio::error::connection_aborted;
      return {static_cast<int>(error), asio::error::get_ssl_category()};
    }
  }
}

boost::system::error_code tls_transport::handshake() {
  // OpenSSL's error queue is per thread and shared by every connection on it:
  // clear it so that an old error is not taken for this call's.
  ERR_clear_error();
  errno = 0;
  return outcome(SSL_do_handshake(ssl_), read_want_);
}

bool tls_transport::holds_input() const noexcept { return SSL_has_pending(ssl_) == 1; }

std::size_t tls_transport::read_some(std::span<char> into, boost::system::error_code& ec) {
  std::size_t total = 0;
  while (total < into.size()) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int ok = SSL_read_ex(ssl_, into.data() + total, into.size() - total, &n);
    if (ok == 1) {
      total += n;
      continue;
    }
    const boost::system::error_code error = outcome(ok, read_want_);
    if (total == 0) {
      ec = error;
      return 0;
    }
    // What came before an error is handled first; the error comes back with
    // the next read, which a drained connection makes after waiting.
    drained_ = error == asio::error::would_block;
    ec = {};
    return total;
  }
  // Out of room: OpenSSL may hold more, decrypted or not.
  drained_ = false;
  ec = {};
  return total;
}

std::size_t tls_transport::write_some(std::span<const server::frame> frames, std::size_t skip_first,
                                      boost::system::error_code& ec) {
  // A record takes 16 KiB at most: the frames past that are not gathered.
  thread_local std::array<iovec, IOV_MAX> iov;
  const std::size_t count = gather_frames(frames, skip_first, iov, write_limit);
  return write_gathered({iov.data(), count}, ec);
}

std::size_t tls_transport::write_gathered(std::span<const iovec> pieces,
                                          boost::system::error_code& ec) {
  const char* data = nullptr;
  std::size_t size = 0;
  const iovec& first = pieces.front();
  if (first.iov_len >= write_limit || pieces.size() == 1) {
    data = static_cast<const char*>(first.iov_base);
    size = first.iov_len;
  } else {
    // Built per call in a per-thread buffer: there is no suspension between
    // filling it and the call, and a retry rebuilds the same bytes.
    thread_local std::array<char, write_limit> record;
    for (const iovec& piece : pieces) {
      const std::size_t take = std::min(piece.iov_len, record.size() - size);
      std::memcpy(record.data() + size, piece.iov_base, take);
      size += take;
      if (size == record.size()) break;
    }
    data = record.data();
  }
  ERR_clear_error();
  errno = 0;
  std::size_t written = 0;
  ec = outcome(SSL_write_ex(ssl_, data, size, &written), write_want_);
  write_pending_ = ec == asio::error::would_block;
  return ec ? 0 : written;
}

void tls_transport::shutdown_send() noexcept {
  ERR_clear_error();
  // One attempt: a peer that does not read its close_notify is not waited for.
  SSL_shutdown(ssl_);
  boost::system::error_code ignored;
  socket_.shutdown(socket_type::shutdown_send, ignored);
}

void tls_transport::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace chat::transport
