#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "redis/address.hpp"
#include "redis/connection.hpp"
#include "redis/reply.hpp"

namespace chat::redis {

// How an owner of connections comes back after losing one.
struct reconnect_options {
  // The wait after the first failure; doubled after each failure that
  // follows, up to max_backoff. Each wait is drawn between half of it and
  // all of it, so that nodes that lost Redis together do not return together.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5'000};
};

struct client_options {
  connection_options connection{};
  reconnect_options reconnect{};
};

// Called on the client's strand when the connection comes up (true) or a
// connection that was up is lost (false): how the server will know it is
// degraded to local delivery. The last call (false) may come after stop():
// what it touches must outlive the io_context's run, not the stop() call.
using state_handler = std::function<void(bool up)>;

// Keeps one command connection to Redis up: connects, and after every loss
// reconnects with backoff. While there is no connection, a command fails
// at once with errc::not_connected: nothing waits for Redis to return.
class client : public std::enable_shared_from_this<client> {
public:
  static std::shared_ptr<client> create(asio::io_context& context, address where,
                                        client_options options = {}, state_handler on_state = {});
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Starts the owner loop; from any thread, once.
  void start();
  // Closes the connection and ends the loop (commands in flight fail with
  // errc::closed); from any thread. The loop's frame holds the client
  // until it has ended.
  void stop();

  // As connection::async_command, through the connection that is up now.
  template <typename Token>
  auto async_command(std::vector<std::string> args, Token&& token) {
    return asio::async_initiate<Token, connection::signature>(
        [self = shared_from_this()](auto handler, std::vector<std::string> words) {
          self->submit(connection::encode(words), connection::handler_type(std::move(handler)));
        },
        token, std::move(args));
  }
  asio::awaitable<reply> command(std::vector<std::string> args) {
    return async_command(std::move(args), asio::use_awaitable);
  }

  bool is_up() const noexcept { return up_; }
  const executor& get_executor() const noexcept { return strand_; }

private:
  client(asio::io_context& context, address where, client_options options, state_handler on_state);
  void submit(std::string bytes, connection::handler_type handler);
  asio::awaitable<void> keep_up(std::shared_ptr<client> self);

  executor strand_;
  address where_;
  client_options options_;
  state_handler on_state_;
  // The backoff's sleep: stop() cancels it.
  asio::steady_timer backoff_timer_;
  // The connection of this round of the loop; empty between rounds.
  std::shared_ptr<connection> current_;
  std::minstd_rand jitter_;
  bool stopping_ = false;
  // Read from any thread by is_up().
  std::atomic<bool> up_ = false;
};

// The wait before reconnecting: `backoff` less a random part of up to a half.
std::chrono::milliseconds jittered(std::chrono::milliseconds backoff, std::minstd_rand& random);

}  // namespace chat::redis
