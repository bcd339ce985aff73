#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench/engine.hpp"
#include "bench/report.hpp"

namespace chat::bench::detail {

// Moves a run through its phases on the calling thread's shard (log in,
// warm up, measure; or log in and hold), watches the bounds (--max-seconds,
// --quiet-ms, failed connections), shows progress, and stops everything at
// the end. Internal to chat_bench.
class controller {
public:
  // CPU time and wall clock at the start and end of what a scenario measures.
  struct mark {
    std::uint64_t at_ns = 0;
    std::optional<double> server_cpu_s;
    double generator_cpu_s = 0;
  };

  // Construct right before the clients start connecting.
  controller(run_state& s, report& r, const std::function<void(const progress&)>& on_progress);

  // Whatever happens, ends with stop_all(): the threads run until then.
  boost::asio::awaitable<void> operator()();

  // What the scenario measured: connecting and logging in (connect), or the
  // traffic from the first send (the others). Unset when it never got there.
  std::optional<std::pair<mark, mark>> measured;
  // What the controller threw, to be rethrown once the threads are done.
  std::exception_ptr error;

private:
  using milliseconds = std::chrono::milliseconds;

  boost::asio::awaitable<void> phases();
  boost::asio::awaitable<bool> log_in_all();
  // Waits until no byte has arrived for `quiet`, within `limit`.
  boost::asio::awaitable<void> settle(milliseconds quiet, milliseconds limit,
                                      const std::string& phase);
  boost::asio::awaitable<void> hold();
  boost::asio::awaitable<bool> warm_up();
  // Puts in the report the receivers the warm-up message never reached.
  void note_warm_up_missing(const client& first, std::uint64_t missing, std::uint64_t receivers);
  boost::asio::awaitable<void> measure();
  boost::asio::awaitable<void> sleep(milliseconds d);
  void stop_all();

  bool failed() const;
  bool past_deadline();
  mark take_mark() const;
  // `last`: the final state, shown whenever it comes.
  void show(const std::string& phase, bool last = false);

  run_state& s_;
  report& r_;
  const std::function<void(const progress&)>& on_progress_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point last_shown_{};
  std::uint64_t last_shown_received_ = 0;
  mark connect_start_;
};

}  // namespace chat::bench::detail
