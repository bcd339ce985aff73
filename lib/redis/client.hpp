#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "redis/address.hpp"
#include "redis/connection.hpp"
#include "redis/reconnecting.hpp"
#include "redis/reply.hpp"

namespace chat::redis {

struct client_options {
  connection_options connection{};
  reconnect_options reconnect{};
};

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

  bool is_up() const noexcept { return link_.is_up(); }
  const executor& get_executor() const noexcept { return strand_; }

private:
  client(asio::io_context& context, address where, client_options options, state_handler on_state);
  void submit(std::string bytes, connection::handler_type handler);
  asio::awaitable<void> keep_up(std::shared_ptr<client> self);

  executor strand_;
  connection_options connection_options_;
  reconnecting link_;
};

}  // namespace chat::redis
