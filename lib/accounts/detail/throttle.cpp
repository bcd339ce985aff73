#include "accounts/detail/throttle.hpp"

#include <algorithm>

namespace chat::accounts::detail {

throttle::throttle(std::chrono::seconds first_delay, std::chrono::seconds max_delay,
                   std::size_t max_keys)
    : first_delay_(first_delay),
      max_delay_(std::max(max_delay, first_delay)),
      max_keys_(max_keys) {}

throttle::clock::duration throttle::delay_after(unsigned failures) const {
  // Doubled one step at a time, so that many failures cannot overflow.
  clock::duration delay = first_delay_;
  for (unsigned n = 1; n < failures && delay < max_delay_; ++n) delay *= 2;
  return std::min(delay, max_delay_);
}

bool throttle::forgotten(const entry& e, clock::time_point now) const {
  return now - e.blocked_until > max_delay_;
}

throttle::clock::duration throttle::blocked_for(std::string_view key, clock::time_point now) const {
  const auto found = keys_.find(key);
  if (found == keys_.end() || found->second.blocked_until <= now) return clock::duration::zero();
  return found->second.blocked_until - now;
}

void throttle::erase(
    std::unordered_map<std::string, entry, key_hash, std::equal_to<>>::iterator at) {
  by_end_.erase({at->second.blocked_until, at->first});
  keys_.erase(at);
}

void throttle::make_room(clock::time_point now) {
  while (!by_end_.empty() && (forgotten(keys_.find(by_end_.begin()->second)->second, now) ||
                              keys_.size() >= max_keys_)) {
    erase(keys_.find(by_end_.begin()->second));
  }
}

void throttle::failed(std::string_view key, clock::time_point now) {
  if (max_keys_ == 0) return;
  auto found = keys_.find(key);
  if (found != keys_.end() && forgotten(found->second, now)) {
    erase(found);
    found = keys_.end();
  }
  entry e;
  if (found != keys_.end()) {
    e = found->second;
    erase(found);
  } else {
    make_room(now);
  }
  ++e.failures;
  e.blocked_until = now + delay_after(e.failures);
  const auto at = keys_.emplace(std::string(key), e).first;
  by_end_.emplace(e.blocked_until, at->first);
}

void throttle::succeeded(std::string_view key) {
  if (const auto found = keys_.find(key); found != keys_.end()) erase(found);
}

}  // namespace chat::accounts::detail
