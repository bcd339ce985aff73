#include "redis/reconnecting.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace chat::redis {

reconnecting::reconnecting(executor strand, address where, reconnect_options options,
                           state_handler on_state)
    : where_(std::move(where)),
      options_(options),
      on_state_(std::move(on_state)),
      backoff_timer_(std::move(strand)),
      jitter_(std::random_device{}()) {}

asio::awaitable<void> reconnecting::run(std::function<std::shared_ptr<connection>()> make,
                                        std::function<std::string()> greeting) {
  auto backoff = options_.initial_backoff;
  while (!stopping_) {
    current_ = make();
    bool was_up = false;
    std::function<void()> on_up = [this, &was_up, &backoff] {
      was_up = true;
      up_ = true;
      backoff = options_.initial_backoff;
      if (on_state_) on_state_(true);
    };
    // Out of the co_await: g++ 12 miscompiles a ?: temporary inside one.
    std::string first;
    if (greeting) first = greeting();
    co_await current_->run(where_, std::move(on_up), std::move(first));
    current_.reset();
    if (was_up) {
      up_ = false;
      if (on_state_) on_state_(false);
    }
    if (stopping_) break;
    backoff_timer_.expires_after(jittered(backoff, jitter_));
    boost::system::error_code ignored;
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void reconnecting::stop() {
  stopping_ = true;
  backoff_timer_.cancel();
  if (current_) current_->close();
}

connection* reconnecting::up_connection() const noexcept {
  return current_ && current_->is_up() ? current_.get() : nullptr;
}

std::chrono::milliseconds jittered(std::chrono::milliseconds backoff, std::minstd_rand& random) {
  const auto half = backoff.count() / 2;
  std::uniform_int_distribution<long long> spread(0, half);
  return std::chrono::milliseconds(backoff.count() - spread(random));
}

void spawn_logged(const executor& strand, asio::awaitable<void> loop, const char* who) {
  asio::co_spawn(strand, std::move(loop), [who](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", who, e.what());
    }
  });
}

}  // namespace chat::redis
