#include "transport/tcp_transport.hpp"

#include <array>
#include <climits>

#include <sys/uio.h>

#include "transport/gathered_send.hpp"

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
  const std::size_t count = gather_frames(frames, skip_first, iov, write_limit);
  return write_gathered({iov.data(), count}, ec);
}

std::size_t tcp_transport::write_gathered(std::span<const iovec> pieces,
                                          boost::system::error_code& ec) {
  return send_gathered(socket_.native_handle(), pieces.data(), pieces.size(), ec);
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
