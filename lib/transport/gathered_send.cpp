#include "transport/gathered_send.hpp"

#include <cerrno>

#include <sys/socket.h>

#include <boost/asio/error.hpp>

namespace chat::transport {

std::size_t send_gathered(int fd, const iovec* buffers, std::size_t count,
                          boost::system::error_code& ec) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(buffers);
  message.msg_iovlen = count;
  for (;;) {
    const ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) {
      ec = {};
      return static_cast<std::size_t>(sent);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      ec = boost::asio::error::would_block;
    } else {
      ec = {errno, boost::system::system_category()};
    }
    return 0;
  }
}

}  // namespace chat::transport
