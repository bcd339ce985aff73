#pragma once

#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace chat::accounts::detail {

// Failures per key (a folded name, or an address) and how long the key is
// blocked for them: the n-th failure in a row blocks it for
// min(max_delay, first_delay * 2^(n-1)). A key is forgotten once its block
// has been over for longer than max_delay. Not thread-safe: the service
// holds a mutex around it. Time is passed in, so that it can be tested
// without waiting.
class throttle {
public:
  using clock = std::chrono::steady_clock;

  throttle(std::chrono::seconds first_delay, std::chrono::seconds max_delay, std::size_t max_keys);

  // How long `key` is still blocked: zero when it is not.
  clock::duration blocked_for(std::string_view key, clock::time_point now) const;

  // A failed attempt of `key`: blocks it (longer than the last time, if it
  // failed before and is not forgotten yet).
  void failed(std::string_view key, clock::time_point now);

  // A successful attempt: `key` starts again from no failures.
  void succeeded(std::string_view key);

  std::size_t size() const noexcept { return keys_.size(); }

private:
  struct entry {
    unsigned failures = 0;
    clock::time_point blocked_until;
  };

  // A transparent hash, so that a string_view finds a key without a copy.
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };

  clock::duration delay_after(unsigned failures) const;
  bool forgotten(const entry& e, clock::time_point now) const;
  // Drops the keys forgotten by `now`, then, while there are max_keys or
  // more, the one whose block ends first: it has the least left to serve.
  void make_room(clock::time_point now);
  void erase(std::unordered_map<std::string, entry, key_hash, std::equal_to<>>::iterator at);

  clock::duration first_delay_;
  clock::duration max_delay_;
  // Bounds the memory a flood of names or addresses can take.
  std::size_t max_keys_;
  std::unordered_map<std::string, entry, key_hash, std::equal_to<>> keys_;
  // The same keys in the order their blocks end: the forgotten ones, and the
  // one to evict when full, are at the front.
  std::set<std::pair<clock::time_point, std::string>> by_end_;
};

}  // namespace chat::accounts::detail
