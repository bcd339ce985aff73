#include "bench/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace chat::bench {

unsigned latency_histogram::bucket_of(std::uint64_t ns) noexcept {
  if (ns < sub_count) return static_cast<unsigned>(ns);
  const unsigned shift = static_cast<unsigned>(std::bit_width(ns)) - 1 - sub_bits;
  const auto mantissa = static_cast<unsigned>(ns >> shift);  // in [sub_count, 2 * sub_count)
  return (shift + 1) * sub_count + (mantissa - sub_count);
}

std::uint64_t latency_histogram::upper_bound_of(unsigned bucket) noexcept {
  if (bucket < sub_count) return bucket;
  const unsigned shift = bucket / sub_count - 1;
  const std::uint64_t mantissa = sub_count + bucket % sub_count;
  return ((mantissa + 1) << shift) - 1;
}

void latency_histogram::record(std::uint64_t ns) noexcept {
  ++buckets_[bucket_of(ns)];
  ++count_;
  max_ = std::max(max_, ns);
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (unsigned i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t latency_histogram::percentile(double fraction) const noexcept {
  if (count_ == 0) return 0;
  const double wanted = std::ceil(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(count_));
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (unsigned i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(upper_bound_of(i), max_);
  }
  return max_;
}

}  // namespace chat::bench
