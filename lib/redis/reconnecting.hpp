#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "redis/address.hpp"
#include "redis/connection.hpp"

namespace chat::redis {

// How an owner of connections comes back after losing one.
struct reconnect_options {
  // The wait after the first failure; doubled after each failure that
  // follows, up to max_backoff. Each wait is drawn between half of it and
  // all of it, so that nodes that lost Redis together do not return together.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5'000};
};

// Called on the owner's strand when the connection comes up (true) or a
// connection that was up is lost (false): how the server will know it is
// degraded to local delivery. The last call (false) may come after stop():
// what it touches must outlive the io_context's run, not the stop() call.
using state_handler = std::function<void(bool up)>;

// What client and subscriber share: one connection at a time on the
// owner's strand, made again after every loss with backoff, its ups and
// downs reported.
class reconnecting {
public:
  reconnecting(executor strand, address where, reconnect_options options, state_handler on_state);

  // On the strand, until stop(): `make` gives each round its connection,
  // `greeting` the bytes that connection sends first (connection::run).
  asio::awaitable<void> run(std::function<std::shared_ptr<connection>()> make,
                            std::function<std::string()> greeting);
  // On the strand: closes the connection and ends run().
  void stop();
  // On the strand: the connection if it is up, else null.
  connection* up_connection() const noexcept;
  // From any thread.
  bool is_up() const noexcept { return up_; }

private:
  address where_;
  reconnect_options options_;
  state_handler on_state_;
  // The backoff's sleep: stop() cancels it.
  asio::steady_timer backoff_timer_;
  // The connection of this round; empty between rounds.
  std::shared_ptr<connection> current_;
  std::minstd_rand jitter_;
  bool stopping_ = false;
  std::atomic<bool> up_ = false;
};

// The wait before reconnecting: `backoff` less a random part of up to a half.
std::chrono::milliseconds jittered(std::chrono::milliseconds backoff, std::minstd_rand& random);

// Runs an owner's loop on its strand; an exception that ends it is logged
// under `who` (detached would swallow it).
void spawn_logged(const executor& strand, asio::awaitable<void> loop, const char* who);

}  // namespace chat::redis
