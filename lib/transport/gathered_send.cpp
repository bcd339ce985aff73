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

std::size_t gather_frames(std::span<const server::frame> frames, std::size_t skip_first,
                          std::span<iovec> into, std::size_t limit) {
  std::size_t count = 0;
  std::size_t bytes = 0;
  for (const server::frame& f : frames) {
    if (count == into.size() || bytes >= limit) break;
    const std::size_t skip = count == 0 ? skip_first : 0;
    into[count++] = {const_cast<char*>(f->data() + skip), f->size() - skip};
    bytes += f->size() - skip;
  }
  return count;
}

}  // namespace chat::transport
