#pragma once

#include <atomic>
#include <thread>

namespace chat::server {

// A lock for sections of a few instructions that are rarely contended, such
// as appending a pointer to an outbox: taking and releasing it is one atomic
// exchange and one store, where std::mutex costs two calls into the C library
// on every delivery. A waiter spins briefly, then yields, so a holder that
// was preempted gets the core back. Never hold it across anything that can
// block or take long.
class spin_lock {
public:
  void lock() noexcept {
    for (int spins = 0; flag_.exchange(true, std::memory_order_acquire); ++spins) {
      // Wait on a plain load, so the cache line is not written while held.
      while (flag_.load(std::memory_order_relaxed)) {
        if (++spins > max_spins) {
          std::this_thread::yield();
          spins = 0;
        }
      }
    }
  }

  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

private:
  static constexpr int max_spins = 64;
  std::atomic<bool> flag_{false};
};

}  // namespace chat::server
