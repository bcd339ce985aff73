#pragma once

#include <cstddef>
#include <limits>
#include <span>

#include <sys/uio.h>

#include <boost/system/error_code.hpp>

#include "server/frame.hpp"
#include "transport/stream.hpp"

namespace chat::transport {

// Plain TCP. Reads and writes are non-blocking system calls made when the
// socket is ready, so that an idle connection holds no buffer and a write
// gathers every queued frame into one sendmsg.
class tcp_transport {
public:
  static constexpr const char* name = "tcp";
  // Nothing to negotiate before the first byte of the protocol.
  static constexpr bool negotiates = false;
  static constexpr bool encrypted = false;
  // A byte stream: lines are framed by LF.
  static constexpr bool carries_messages = false;

  explicit tcp_transport(socket_type socket) : socket_(std::move(socket)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& socket() noexcept { return socket_; }

  // Makes the socket non-blocking; false (and `ec`) if it cannot be used.
  bool prepare(boost::system::error_code& ec);

  // Reads what the kernel holds, up to `into.size()` bytes; would_block when
  // nothing is there.
  std::size_t read_some(std::span<char> into, boost::system::error_code& ec);
  // After a read of `n` bytes: whether more may be waiting, so that the next
  // read should be tried before waiting. A read that filled the buffer most
  // likely left more behind; a shorter one took all there was.
  bool may_have_more(std::size_t n, std::size_t asked) const noexcept { return n == asked; }
  wait_type read_wait() const noexcept { return socket_type::wait_read; }

  // Writes as much of `frames` (the first one from `skip_first` on) as the
  // kernel takes in one gathered system call; would_block when it takes none.
  std::size_t write_some(std::span<const server::frame> frames, std::size_t skip_first,
                         boost::system::error_code& ec);
  wait_type write_wait() const noexcept { return socket_type::wait_write; }

  // The byte layer beneath WebSocket (websocket_transport), like TLS's:
  // the bytes of `pieces` in order, as many as the kernel takes in one
  // sendmsg. A write takes any number of bytes; nothing is held after one
  // that would block, so any bytes may be written next.
  static constexpr std::size_t write_limit = std::numeric_limits<std::size_t>::max();
  std::size_t write_gathered(std::span<const iovec> pieces, boost::system::error_code& ec);
  bool write_pending() const noexcept { return false; }

  // After the last frame: the peer sees the end of the stream.
  void shutdown_send() noexcept;
  // Immediate; pending waits end with operation_aborted.
  void close() noexcept;

private:
  socket_type socket_;
};

}  // namespace chat::transport
