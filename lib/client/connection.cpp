#include "client/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <system_error>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace chat::client {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t read_size = 16 * 1024;

// boost::system::system_error appends "[system:111]" to what(); the std
// flavour keeps the message readable for people.
[[noreturn]] void fail(const boost::system::error_code& ec, const std::string& context) {
  if (context.empty()) throw std::system_error(std::error_code(ec));
  throw std::system_error(std::error_code(ec), context);
}

}  // namespace

std::string format_address(std::string_view host, std::uint16_t port) {
  std::string out;
  const bool ipv6_literal = host.find(':') != std::string_view::npos;
  if (ipv6_literal) out.push_back('[');
  out.append(host);
  if (ipv6_literal) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

asio::awaitable<connection> connection::connect(asio::any_io_executor executor, std::string host,
                                                std::uint16_t port) {
  tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(
      host, std::to_string(port), asio::as_tuple(asio::use_awaitable));
  if (resolve_error) fail(resolve_error, "cannot resolve " + host);

  tcp::socket socket(executor);
  auto [connect_error, endpoint] =
      co_await asio::async_connect(socket, endpoints, asio::as_tuple(asio::use_awaitable));
  if (connect_error) fail(connect_error, "cannot connect to " + format_address(host, port));
  co_return connection(std::move(socket));
}

connection::connection(tcp::socket socket, std::size_t max_frame)
    : socket_(std::move(socket)), inbox_(max_frame, read_size) {}

asio::awaitable<std::optional<std::string>> connection::read_frame() {
  for (;;) {
    if (auto line = inbox_.next()) {
      if (line->too_long) {
        fail(make_error_code(boost::system::errc::message_size),
             "the server sent a frame longer than " + std::to_string(inbox_.max_line()) +
                 " bytes");
      }
      co_return std::move(line->text);
    }
    if (closed_by_peer_) co_return std::nullopt;
    const auto space = inbox_.space();
    auto [ec, count] = co_await socket_.async_read_some(asio::buffer(space.data(), space.size()),
                                                        asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof) {
      closed_by_peer_ = true;
      inbox_.commit_end_of_stream();
      continue;
    }
    if (ec) fail(ec, {});
    inbox_.commit(count);
  }
}

asio::awaitable<void> connection::write(std::string_view bytes) {
  auto [ec, count] = co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                                                asio::as_tuple(asio::use_awaitable));
  if (ec) fail(ec, {});
}

void connection::enable_keepalive() noexcept {
  // First probe after 30 s of silence, then every 10 s; 3 unanswered probes
  // end the connection with ETIMEDOUT. Best effort: failures change nothing.
  const int native = socket_.native_handle();
  const int on = 1, idle = 30, interval = 10, count = 3;
  ::setsockopt(native, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(native, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(native, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(native, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

void connection::close() noexcept {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace chat::client
