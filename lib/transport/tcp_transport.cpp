#include "transport/tcp_transport.hpp"

#include <array>
#include <cerrno>
#include <climits>

#include <sys/socket.h>
#include <sys/uio.h>

namespace chat::transport {

namespace asio = boost::asio;

bool tcp_transport::prepare(boost::system::error_code& ec) {
  socket_.non_blocking(true, ec);
  return !ec;
}

std::size_t tcp_transport::read_some(std::span<char> into, boost::system::error_code& ec) {
  return socket_.read_some(asio::buffer(into.data(), into.size()), ec);
}

std::size_t tcp_transport::write_some(std::span<const server::frame> frames, std::size_t skip_first,
                                      boost::system::error_code& ec) {
  // Built per call in a per-thread array: there is no suspension between
  // filling it and the system call.
  thread_local std::array<iovec, IOV_MAX> iov;
  std::size_t count = 0;
  for (const server::frame& f : frames) {
    if (count == iov.size()) break;
    const std::size_t skip = count == 0 ? skip_first : 0;
    iov[count++] = {const_cast<char*>(f->data() + skip), f->size() - skip};
  }
  msghdr message{};
  message.msg_iov = iov.data();
  message.msg_iovlen = count;
  for (;;) {
    // MSG_NOSIGNAL because a peer that vanished must be an error code, not SIGPIPE.
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) {
      ec = {};
      return static_cast<std::size_t>(sent);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      ec = asio::error::would_block;
    } else {
      ec = {errno, boost::system::system_category()};
    }
    return 0;
  }
}

void tcp_transport::shutdown_send() noexcept {
  boost::system::error_code ignored;
  socket_.shutdown(socket_type::shutdown_send, ignored);
}

void tcp_transport::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace chat::transport
