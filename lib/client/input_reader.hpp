#pragma once

#include <cstddef>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "client/line_buffer.hpp"

namespace chat::client {

// Reads lines from a file descriptor (standard input) inside the io_context,
// so typing and receiving share one thread. Terminals and pipes are watched
// by the reactor. epoll refuses regular files and /dev/null, but Asio still
// reads them (they never block). A descriptor Asio gives up on (assign fails,
// or a read reports operation_not_supported) is read directly with read(2).
class input_reader {
public:
  // Does not take ownership: the descriptor stays open and gets its original
  // file status flags back on destruction (a terminal's O_NONBLOCK is shared
  // with the shell that started us).
  input_reader(const boost::asio::any_io_executor& executor, int fd, std::size_t max_line);
  ~input_reader();
  input_reader(const input_reader&) = delete;
  input_reader& operator=(const input_reader&) = delete;

  // The next line; nullopt at end of input. Throws std::system_error when the
  // descriptor cannot be read.
  boost::asio::awaitable<std::optional<line_buffer::line>> read_line();

  // Ends a pending read_line with operation_aborted; every later one reports
  // the end of input. The descriptor is handed back at once.
  void close() noexcept;

private:
  // Fills the buffer with the next chunk; false at end of input.
  boost::asio::awaitable<bool> read_more();
  // Hands fd_ back as it was given: unregistered, original flags.
  void stop_polling() noexcept;

  int fd_;
  int original_flags_;
  boost::asio::posix::stream_descriptor descriptor_;
  // False when the reactor would not watch fd_, which is then read directly.
  bool polled_ = true;
  // Set at end of input, which the reactor reports only once.
  bool at_end_ = false;
  bool closed_ = false;
  line_buffer buffer_;
};

}  // namespace chat::client
