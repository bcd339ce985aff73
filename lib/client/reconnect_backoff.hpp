#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace chat::client {

// How long chat-client waits before each attempt to reconnect: `first`,
// doubling per failed attempt up to `cap`, each wait drawn at random from
// the upper half of its step so that clients dropped together (a server
// restart) do not all come back in the same instant. reset() after a
// successful login starts again from `first`.
class reconnect_backoff {
public:
  using duration = std::chrono::milliseconds;
  // Returns a number in [0, 1); tests pass a fixed one.
  using uniform_source = std::function<double()>;

  static constexpr duration default_first{500};
  static constexpr duration default_cap{30'000};

  explicit reconnect_backoff(duration first = default_first, duration cap = default_cap,
                             uniform_source random = {});

  // The wait before the next attempt; each call is one more attempt.
  duration next();
  // The step next() draws from, before jitter.
  duration step() const noexcept { return step_; }
  void reset() noexcept { step_ = first_; }

private:
  duration first_;
  duration cap_;
  duration step_;
  uniform_source random_;
};

// "0.5s", "2s", "30s": a wait as the terminal shows it.
std::string format_wait(std::chrono::milliseconds wait);

}  // namespace chat::client
