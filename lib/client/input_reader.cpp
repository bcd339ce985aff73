#include "client/input_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chat::client {

namespace asio = boost::asio;

namespace {
constexpr std::size_t read_size = 16 * 1024;
}

input_reader::input_reader(const asio::any_io_executor& executor, int fd, std::size_t max_line)
    : fd_(fd),
      original_flags_(::fcntl(fd, F_GETFL)),
      descriptor_(executor),
      buffer_(max_line, read_size) {
  boost::system::error_code ec;
  descriptor_.assign(fd, ec);
  if (ec) stop_polling();
}

input_reader::~input_reader() { stop_polling(); }

void input_reader::stop_polling() noexcept {
  polled_ = false;
  if (descriptor_.is_open()) descriptor_.release();
  if (original_flags_ != -1) ::fcntl(fd_, F_SETFL, original_flags_);
}

asio::awaitable<std::optional<line_buffer::line>> input_reader::read_line() {
  for (;;) {
    if (closed_) co_return std::nullopt;
    if (auto line = buffer_.next()) co_return line;
    if (at_end_) co_return std::nullopt;
    if (!co_await read_more()) {
      at_end_ = true;
      buffer_.commit_end_of_stream();
    }
  }
}

asio::awaitable<bool> input_reader::read_more() {
  const auto space = buffer_.space();
  if (polled_) {
    auto [ec, count] = co_await descriptor_.async_read_some(
        asio::buffer(space.data(), space.size()), asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof) co_return false;
    if (ec != asio::error::operation_not_supported) {
      if (ec) throw std::system_error(std::error_code(ec));
      buffer_.commit(count);
      co_return true;
    }
    // The reactor cannot wait on this descriptor: read it directly from now
    // on, in the blocking mode it came with.
    stop_polling();
  }
  ssize_t count;
  do {
    count = ::read(fd_, space.data(), space.size());
  } while (count < 0 && errno == EINTR);
  if (count < 0) throw std::system_error(errno, std::system_category());
  if (count == 0) co_return false;
  buffer_.commit(static_cast<std::size_t>(count));
  co_return true;
}

void input_reader::close() noexcept {
  closed_ = true;
  boost::system::error_code ignored;
  descriptor_.cancel(ignored);
  stop_polling();
}

}  // namespace chat::client
