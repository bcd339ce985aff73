#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include "client/reconnect_backoff.hpp"

namespace {

using chat::client::format_wait;
using chat::client::reconnect_backoff;
using std::chrono::milliseconds;

}  // namespace

TEST_CASE("reconnect_backoff doubles from 0.5 s to a 30 s cap and starts over on reset",
          "[backoff]") {
  // The top of each step's range: random() just below 1.
  reconnect_backoff backoff(reconnect_backoff::default_first, reconnect_backoff::default_cap,
                            [] { return 0.999999; });
  std::vector<long> waits;
  for (int i = 0; i < 9; ++i) waits.push_back(backoff.next().count());
  CHECK(waits == std::vector<long>{499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999});
  backoff.reset();
  CHECK(backoff.step() == milliseconds(500));
  CHECK(backoff.next().count() == 499);
}

TEST_CASE("reconnect_backoff waits at least half of each step, at random", "[backoff]") {
  reconnect_backoff low(milliseconds(500), milliseconds(30'000), [] { return 0.0; });
  CHECK(low.next() == milliseconds(250));
  CHECK(low.next() == milliseconds(500));

  // The real source stays within the range.
  reconnect_backoff real;
  for (int i = 0; i < 100; ++i) {
    const auto step = real.step();
    const auto wait = real.next();
    CHECK(wait >= step / 2);
    CHECK(wait <= step);
  }
}

TEST_CASE("format_wait shows tenths below ten seconds", "[backoff]") {
  CHECK(format_wait(milliseconds(500)) == "0.5s");
  CHECK(format_wait(milliseconds(2000)) == "2s");
  CHECK(format_wait(milliseconds(1730)) == "1.7s");
  CHECK(format_wait(milliseconds(29'999)) == "30s");
  CHECK(format_wait(milliseconds(12'400)) == "12s");
}
