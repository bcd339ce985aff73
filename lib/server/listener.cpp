#include "server/listener.hpp"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/log.hpp"
#include "server/session.hpp"
#include "server/session_registry.hpp"

namespace chat::server {

namespace asio = boost::asio;

asio::awaitable<void> listen(asio::ip::tcp::acceptor& acceptor, hub& hub,
                             session_registry& registry, const config& cfg) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  const auto executor = co_await asio::this_coro::executor;
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(executor), use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {
      // Out of descriptors (EMFILE) and the like pass: back off instead of
      // spinning or giving up on every later client.
      log(log_level::warn, "accept failed: ", ec.message());
      asio::steady_timer pause(executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    auto s = std::make_shared<session>(std::move(socket), hub, registry, cfg);
    registry.add(s);
    s->start();
  }
}

}  // namespace chat::server
