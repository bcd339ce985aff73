#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
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

// One command through `c`, waited for from the test's thread; throws
// boost::system::system_error as the coroutine would.
inline redis::reply run_command(io_threads& io, redis::client& c, std::vector<std::string> args) {
  return asio::co_spawn(io.context(), c.command(std::move(args)), asio::use_future).get();
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
