#include "client/reconnect_backoff.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>

namespace chat::client {

namespace {

reconnect_backoff::uniform_source default_source() {
  // Seeded per process: the point is that two clients differ.
  auto engine = std::make_shared<std::minstd_rand>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

reconnect_backoff::reconnect_backoff(duration first, duration cap, uniform_source random)
    : first_(first),
      cap_(std::max(cap, first)),
      step_(first),
      random_(random ? std::move(random) : default_source()) {}

reconnect_backoff::duration reconnect_backoff::next() {
  const duration step = step_;
  step_ = std::min(cap_, step_ * 2);
  // Half fixed, half random: never less than half the step, so the backoff
  // still backs off.
  const double share = 0.5 + 0.5 * std::clamp(random_(), 0.0, 1.0);
  return duration(static_cast<duration::rep>(static_cast<double>(step.count()) * share));
}

std::string format_wait(std::chrono::milliseconds wait) {
  char text[32];
  if (wait < std::chrono::seconds(10)) {
    std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(wait.count()) / 1000.0);
    std::string out(text);
    if (out.ends_with(".0s")) out.erase(out.size() - 3, 2);
    return out;
  }
  std::snprintf(text, sizeof text, "%llds", static_cast<long long>((wait.count() + 500) / 1000));
  return text;
}

}  // namespace chat::client
