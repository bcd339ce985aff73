#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <sodium.h>

#include "accounts/account_service.hpp"
#include "data_dir.hpp"

namespace chat::accounts::test {

// A test waits at most this long for an answer: far more than any takes.
inline constexpr std::chrono::seconds answer_timeout{30};

// argon2id's cheapest cost: a hash in microseconds.
inline constexpr hash_cost cheap_cost{.ops = crypto_pwhash_OPSLIMIT_MIN,
                                      .memory = crypto_pwhash_MEMLIMIT_MIN};
// The default cost (about 0.1 s a hash here): long enough that a request
// queued behind one is still waiting a few statements later.
inline constexpr hash_cost slow_cost{};

inline options cheap_options(const chat::test::data_dir& dir) {
  options o;
  o.dir = dir.path();
  o.cost = cheap_cost;
  return o;
}

// What came back for one request: the result, when, and on which thread.
struct answered {
  result value;
  std::size_t arrival = 0;  // 0 for the first answer to come back, and on
  std::thread::id thread;
  unsigned calls = 0;
};

// Hands out done handlers and collects what they are called with. Declare
// it before the service: the handlers point into it.
class answers {
public:
  // The handler for the next request; its answer is at the index returned
  // by count() before this call.
  done_handler next() {
    std::lock_guard lock(mutex_);
    const std::size_t index = slots_.size();
    slots_.emplace_back();
    return [this, index](result r) {
      std::lock_guard answering(mutex_);
      std::optional<answered>& slot = slots_[index];
      const unsigned calls = slot ? slot->calls + 1 : 1;
      slot = answered{std::move(r), arrived_++, std::this_thread::get_id(), calls};
      changed_.notify_all();
    };
  }

  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return slots_.size();
  }

  // Waits for request `index`'s answer; fails the test if none comes.
  answered wait(std::size_t index) {
    std::unique_lock lock(mutex_);
    const bool came =
        changed_.wait_for(lock, answer_timeout, [&] { return slots_.at(index).has_value(); });
    REQUIRE(came);
    return *slots_[index];
  }

  // Every answer: also fails unless each handler was called once only.
  void wait_all() {
    for (std::size_t i = 0; i < count(); ++i) CHECK(wait(i).calls == 1);
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::optional<answered>> slots_;
  std::size_t arrived_ = 0;
};

// One request, waited for. Each checks where the answer came: a hash's
// (ok, wrong_password) on one of the service's threads, never the caller's;
// a refusal no hash decides (bad_password, throttled, busy) at once, on the
// caller's thread. exists and no_account may be either: most are decided at
// once, a race lost to another request only after its hash.
inline result checked(answers& a) {
  const answered got = a.wait(a.count() - 1);
  switch (got.value.what) {
    case status::ok:
    case status::wrong_password: CHECK(got.thread != std::this_thread::get_id()); break;
    case status::bad_password:
    case status::throttled:
    case status::busy: CHECK(got.thread == std::this_thread::get_id()); break;
    default: break;
  }
  return got.value;
}

inline result log_in(account_service& s, std::string name, std::string password,
                     std::string address = "192.0.2.1") {
  answers a;
  s.log_in(std::move(name), std::move(password), std::move(address), a.next());
  return checked(a);
}

inline result create(account_service& s, std::string name, std::string password) {
  answers a;
  s.create(std::move(name), std::move(password), a.next());
  return checked(a);
}

inline result change_password(account_service& s, std::string name, std::string old_password,
                              std::string new_password, std::string address = "192.0.2.1") {
  answers a;
  s.change_password(std::move(name), std::move(old_password), std::move(new_password),
                    std::move(address), a.next());
  return checked(a);
}

inline result remove(account_service& s, std::string name, std::string password,
                     std::string address = "192.0.2.1") {
  answers a;
  s.remove(std::move(name), std::move(password), std::move(address), a.next());
  return checked(a);
}

}  // namespace chat::accounts::test

namespace Catch {
template <>
struct StringMaker<chat::accounts::status> {
  static std::string convert(chat::accounts::status s) {
    using chat::accounts::status;
    switch (s) {
      case status::ok: return "ok";
      case status::wrong_password: return "wrong_password";
      case status::throttled: return "throttled";
      case status::busy: return "busy";
      case status::exists: return "exists";
      case status::no_account: return "no_account";
      case status::bad_password: return "bad_password";
      case status::failed: return "failed";
    }
    return "status " + std::to_string(static_cast<int>(s));
  }
};
}  // namespace Catch
