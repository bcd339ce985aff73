#include "redis/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace chat::redis {

std::chrono::milliseconds jittered(std::chrono::milliseconds backoff, std::minstd_rand& random) {
  const auto half = backoff.count() / 2;
  std::uniform_int_distribution<long long> spread(0, half);
  return std::chrono::milliseconds(backoff.count() - spread(random));
}

std::shared_ptr<client> client::create(asio::io_context& context, address where,
                                       client_options options, state_handler on_state) {
  return std::shared_ptr<client>(
      new client(context, std::move(where), options, std::move(on_state)));
}

client::client(asio::io_context& context, address where, client_options options,
               state_handler on_state)
    : strand_(asio::make_strand(context)),
      where_(std::move(where)),
      options_(options),
      on_state_(std::move(on_state)),
      backoff_timer_(strand_),
      jitter_(std::random_device{}()) {}

void client::start() {
  asio::co_spawn(strand_, keep_up(shared_from_this()), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "redis client: %s\n", e.what());
    }
  });
}

void client::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->stopping_ = true;
    self->backoff_timer_.cancel();
    if (self->current_) self->current_->close();
  });
}

void client::submit(std::string bytes, connection::handler_type handler) {
  asio::dispatch(strand_, [self = shared_from_this(), bytes = std::move(bytes),
                           handler = std::move(handler)]() mutable {
    if (self->current_ && self->current_->is_up()) {
      self->current_->enqueue(std::move(bytes), std::move(handler));
      return;
    }
    connection::complete(std::move(handler), errc::not_connected, reply{});
  });
}

asio::awaitable<void> client::keep_up(std::shared_ptr<client> /*self: keeps the client alive*/) {
  auto backoff = options_.reconnect.initial_backoff;
  while (!stopping_) {
    current_ = std::make_shared<connection>(strand_, options_.connection);
    bool was_up = false;
    std::function<void()> on_up = [this, &was_up, &backoff] {
      was_up = true;
      up_ = true;
      backoff = options_.reconnect.initial_backoff;
      if (on_state_) on_state_(true);
    };
    const boost::system::error_code reason = co_await current_->run(where_, std::move(on_up));
    current_.reset();
    if (was_up) {
      up_ = false;
      if (on_state_) on_state_(false);
    }
    if (stopping_) break;
    (void)reason;
    backoff_timer_.expires_after(jittered(backoff, jitter_));
    boost::system::error_code ignored;
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    backoff = std::min(backoff * 2, options_.reconnect.max_backoff);
  }
}

}  // namespace chat::redis
