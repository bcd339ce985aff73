#include <catch2/catch.hpp>

#include "bench/latency_histogram.hpp"

using chat::bench::latency_histogram;

TEST_CASE("small latencies are exact", "[latency]") {
  latency_histogram h;
  CHECK(h.percentile(0.5) == 0);
  for (std::uint64_t ns = 1; ns <= 100; ++ns) h.record(ns);
  CHECK(h.count() == 100);
  CHECK(h.percentile(0.5) == 50);
  CHECK(h.percentile(0.9) == 90);
  CHECK(h.percentile(0.99) == 99);
  CHECK(h.percentile(1.0) == 100);
  CHECK(h.max() == 100);
}

TEST_CASE("large latencies are within 1%, and never above the maximum", "[latency]") {
  latency_histogram h;
  // 1 us .. 1000 us, one sample each.
  for (std::uint64_t us = 1; us <= 1000; ++us) h.record(us * 1000);
  for (const double p : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = p * 1000 * 1000;
    INFO(p);
    CHECK(static_cast<double>(h.percentile(p)) >= exact);
    CHECK(static_cast<double>(h.percentile(p)) <= exact * 1.01);
  }
  CHECK(h.percentile(1.0) == 1'000'000);
  h.record(~std::uint64_t{0});
  CHECK(h.max() == ~std::uint64_t{0});
  CHECK(h.percentile(1.0) == ~std::uint64_t{0});
}

TEST_CASE("histograms merge", "[latency]") {
  latency_histogram a, b;
  for (int i = 0; i < 90; ++i) a.record(10);
  for (int i = 0; i < 10; ++i) b.record(5000);
  a.merge(b);
  CHECK(a.count() == 100);
  CHECK(a.percentile(0.9) == 10);
  CHECK(a.percentile(0.91) >= 5000);
  CHECK(a.max() == 5000);
}
