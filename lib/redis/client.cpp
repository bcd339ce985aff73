#include "redis/client.hpp"

namespace chat::redis {

std::shared_ptr<client> client::create(asio::io_context& context, address where,
                                       client_options options, state_handler on_state) {
  return std::shared_ptr<client>(
      new client(context, std::move(where), options, std::move(on_state)));
}

client::client(asio::io_context& context, address where, client_options options,
               state_handler on_state)
    : strand_(asio::make_strand(context)),
      connection_options_(options.connection),
      link_(strand_, std::move(where), options.reconnect, std::move(on_state)) {}

void client::start() { spawn_logged(strand_, keep_up(shared_from_this()), "redis client"); }

void client::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->link_.stop(); });
}

void client::submit(std::string bytes, connection::handler_type handler) {
  asio::dispatch(strand_, [self = shared_from_this(), bytes = std::move(bytes),
                           handler = std::move(handler)]() mutable {
    if (connection* up = self->link_.up_connection()) {
      up->enqueue(std::move(bytes), std::move(handler));
      return;
    }
    connection::complete(std::move(handler), errc::not_connected, reply{});
  });
}

asio::awaitable<void> client::keep_up(std::shared_ptr<client> /*self: keeps the client alive*/) {
  co_await link_.run([this] { return std::make_shared<connection>(strand_, connection_options_); },
                     {});
}

}  // namespace chat::redis
