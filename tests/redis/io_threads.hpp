#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "redis/client.hpp"

namespace chat::test {

namespace asio = boost::asio;

// An io_context run by `count` threads for the length of a test, as the
// server runs its own: clients and their callers on different threads.
class io_threads {
public:
  explicit io_threads(int count = 2) : work_(asio::make_work_guard(context_)) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this] { context_.run(); });
  }
  // Whatever the test started must have been stopped: run() returns once
  // every coroutine has ended.
  ~io_threads() {
    work_.reset();
    for (std::thread& thread : threads_) thread.join();
  }
  asio::io_context& context() noexcept { return context_; }

private:
  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

// One command through `c`, waited for from the test's thread: the error
// and the reply. A callback and a promise rather than use_future, so that
// no exception_ptr crosses threads (libstdc++ counts its references where
// TSan cannot see).
inline std::pair<boost::system::error_code, redis::reply> try_command(
    redis::client& c, std::vector<std::string> args) {
  std::promise<std::pair<boost::system::error_code, redis::reply>> done;
  auto result = done.get_future();
  c.async_command(std::move(args), [&done](boost::system::error_code error, redis::reply r) {
    done.set_value({error, std::move(r)});
  });
  return result.get();
}

// As try_command; an error is thrown as boost::system::system_error. `io`
// is the threads that run `c`, named so that the calls say where they run.
inline redis::reply run_command(io_threads& /*io*/, redis::client& c,
                                std::vector<std::string> args) {
  auto [error, r] = try_command(c, std::move(args));
  if (error) throw boost::system::system_error(error);
  return std::move(r);
}

// Polls `done` until it is true or `timeout` passes; false then.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5'000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace chat::test
