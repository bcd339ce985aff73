#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bench/options.hpp"

namespace chat::bench {

// What the background load did while it ran.
struct churn_outcome {
  std::uint64_t done = 0;     // joins answered, or logins welcomed
  std::uint64_t missed = 0;   // ticks that found every slot busy
  std::uint64_t refused = 0;  // logins the server turned away for now (rate-limited)
  std::uint64_t failed = 0;   // any other refusal, or broken
  // joins: past messages the joins brought (each should bring a room's worth).
  std::uint64_t history_messages = 0;
  std::string first_failure;
  double seconds = 0;  // from start() to stop()
  // From the request to the server's answer (joined, welcome), nanoseconds.
  std::uint64_t p50_ns = 0, p99_ns = 0, max_ns = 0;
  // From a login's connect to its refusal (rate-limited), nanoseconds: a
  // server out of hashing time should still say so at once.
  std::uint64_t refused_p50_ns = 0, refused_p99_ns = 0;
};

// The load --churn asks for, beside the scenario and on a thread of its own,
// so that it costs the scenario's generator threads nothing: one client
// joining a room with history on disk and leaving it again, or new clients
// logging in (as guests, or to accounts with a password) and quitting,
// --churn's rate times a second. It shows what such
// traffic costs everyone else on the server.
class churn {
public:
  // opts.churn must be set.
  explicit churn(const options& opts, std::string name_prefix);
  ~churn();
  churn(const churn&) = delete;
  churn& operator=(const churn&) = delete;

  // Sets the scene (joins: rooms with history, written and left; accounts:
  // the accounts registered), blocking;
  // throws std::runtime_error when the server does not play along.
  void prepare();
  // Starts the paced load on its thread.
  void start();
  // Stops the load and reports; call once, after start().
  churn_outcome stop();

private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace chat::bench
