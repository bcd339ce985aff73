#include "server/listener.hpp"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "protocol/event.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"
#include "server/session_registry.hpp"

namespace chat::server {

namespace asio = boost::asio;

namespace {

// A refusal must cost next to nothing, or it is the cheapest attack there is:
// one non-blocking send of a fixed line, then close. No session, no strand.
template <class Socket>
void refuse(Socket& socket, session_registry::admission admission, refusal how) {
  using protocol::error_code;
  static const std::string server_full = protocol::encode_error(
      protocol::session_mode::plain, error_code::server_full, "the server is full; try later");
  static const std::string too_many =
      protocol::encode_error(protocol::session_mode::plain, error_code::too_many_connections,
                             "too many connections from your address");
  const std::string& line =
      admission == session_registry::admission::server_full ? server_full : too_many;
  metrics::error_sent(admission == session_registry::admission::server_full
                          ? error_code::server_full
                          : error_code::too_many_connections);
  boost::system::error_code ignored;
  if (how == refusal::error_line) {
    socket.non_blocking(true, ignored);
    socket.send(asio::buffer(line), 0, ignored);
  }
  socket.close(ignored);
}

}  // namespace

asio::awaitable<void> listen(asio::ip::tcp::acceptor& acceptor,
                             std::span<asio::io_context* const> workers, session_registry& registry,
                             refusal how_to_refuse, session_starter start) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  const auto executor = co_await asio::this_coro::executor;
  std::size_t next_worker = 0;
  while (acceptor.is_open()) {
    // A strand of a worker's io_context, not of this coroutine's executor,
    // which is the server's control strand: sessions run in parallel. Of the
    // concrete executor type, not any_io_executor, which would make every copy
    // of the strand (each wait of the session takes one) a heap allocation.
    asio::ip::tcp::endpoint peer;
    asio::io_context& worker = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(worker), peer, use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {
      // Out of descriptors (EMFILE) and the like pass: back off instead of
      // spinning or giving up on every later client.
      log(log_level::warn, "accept failed: ", ec.message());
      asio::steady_timer pause(executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    const auto admission = registry.admit(peer.address());
    if (admission != session_registry::admission::admitted) {
      refuse(socket, admission, how_to_refuse);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    start(std::move(socket), peer.address());
  }
}

}  // namespace chat::server
