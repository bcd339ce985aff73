#include <catch2/catch.hpp>

#include <chrono>

#include "accounts/detail/throttle.hpp"

using chat::accounts::detail::throttle;
using namespace std::chrono_literals;

namespace {

// A fixed start: the throttle only ever compares and subtracts times.
const throttle::clock::time_point t0 = throttle::clock::time_point{} + 1000h;

}  // namespace

TEST_CASE("throttle: each failure in a row doubles the block, up to max_delay", "[accounts]") {
  throttle t(1s, 5s, 100);
  CHECK(t.blocked_for("alice", t0) == 0s);
  auto now = t0;
  for (const auto expected : {1s, 2s, 4s, 5s, 5s}) {
    t.failed("alice", now);
    CHECK(t.blocked_for("alice", now) == expected);
    now += expected;
    CHECK(t.blocked_for("alice", now) == 0s);
  }
}

TEST_CASE("throttle: the block runs down, and other keys are not blocked", "[accounts]") {
  throttle t(4s, 300s, 100);
  t.failed("alice", t0);
  CHECK(t.blocked_for("alice", t0 + 1500ms) == 2500ms);
  CHECK(t.blocked_for("bob", t0) == 0s);
  CHECK(t.blocked_for("alice", t0 + 4s) == 0s);
}

TEST_CASE("throttle: a success starts the key again from no failures", "[accounts]") {
  throttle t(1s, 300s, 100);
  t.failed("alice", t0);
  t.failed("alice", t0 + 1s);
  CHECK(t.blocked_for("alice", t0 + 1s) == 2s);
  t.succeeded("alice");
  CHECK(t.blocked_for("alice", t0 + 1s) == 0s);
  CHECK(t.size() == 0);
  t.failed("alice", t0 + 3s);
  CHECK(t.blocked_for("alice", t0 + 3s) == 1s);
}

TEST_CASE("throttle: failures are forgotten once idle for max_delay after the block",
          "[accounts]") {
  throttle t(1s, 10s, 100);
  t.failed("alice", t0);  // blocked until t0 + 1s
  // Within max_delay of the block's end: the next failure doubles.
  t.failed("alice", t0 + 11s);
  CHECK(t.blocked_for("alice", t0 + 11s) == 2s);
  // Blocked until t0 + 13s; idle past t0 + 23s, it is a first failure again.
  t.failed("alice", t0 + 23s + 1ms);
  CHECK(t.blocked_for("alice", t0 + 23s + 1ms) == 1s);
}

TEST_CASE("throttle: forgotten keys are dropped as others fail", "[accounts]") {
  throttle t(1s, 10s, 100);
  t.failed("alice", t0);
  t.failed("bob", t0);
  CHECK(t.size() == 2);
  t.failed("carol", t0 + 12s);
  CHECK(t.size() == 1);
  CHECK(t.blocked_for("carol", t0 + 12s) == 1s);
}

TEST_CASE("throttle: when full, the key whose block ends first makes room", "[accounts]") {
  throttle t(1s, 300s, 3);
  // bob has failed twice: his block ends last of the first three.
  t.failed("bob", t0);
  t.failed("bob", t0 + 1s);        // until t0 + 3s
  t.failed("alice", t0 + 1s);      // until t0 + 2s
  t.failed("carol", t0 + 1500ms);  // until t0 + 2.5s
  t.failed("dave", t0 + 1500ms);
  CHECK(t.size() == 3);
  const auto now = t0 + 1500ms;
  CHECK(t.blocked_for("alice", now) == 0s);
  CHECK(t.blocked_for("bob", now) == 1500ms);
  CHECK(t.blocked_for("carol", now) == 1s);
  CHECK(t.blocked_for("dave", now) == 1s);
  // A key already held takes no room: bob's third failure evicts nobody.
  t.failed("bob", now);
  CHECK(t.size() == 3);
  CHECK(t.blocked_for("bob", now) == 4s);
}

TEST_CASE("throttle: with no room at all, nothing is kept and nothing blocked", "[accounts]") {
  throttle t(1s, 300s, 0);
  t.failed("alice", t0);
  CHECK(t.size() == 0);
  CHECK(t.blocked_for("alice", t0) == 0s);
}
