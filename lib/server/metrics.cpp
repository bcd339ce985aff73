#include "server/metrics.hpp"

#include "server/frame.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

namespace chat::server::metrics {

namespace {

constexpr std::size_t counters = static_cast<std::size_t>(counter::count_);
constexpr std::size_t transports = static_cast<std::size_t>(transport::count_);
constexpr std::size_t forms = 2;
constexpr std::size_t error_codes = protocol::error_code_count;

// Upper bounds of the delivery latency buckets, in seconds: from a fan-out
// within a millisecond to one that took seconds (a backlogged client).
constexpr std::array<double, 12> latency_bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

// One thread's counts. Only its thread writes them, so a count goes up by a
// relaxed load and store; the scrape reads them relaxed from any thread.
struct block {
  std::array<std::atomic<std::uint64_t>, counters> counts{};
  std::array<std::atomic<std::uint64_t>, error_codes> errors{};
  // Gauges: ups and downs, summed across threads in two's complement (a
  // connection may open on one thread and be counted down on another).
  std::array<std::atomic<std::uint64_t>, transports> connections{};
  std::array<std::atomic<std::uint64_t>, forms> sessions{};
  std::array<std::atomic<std::uint64_t>, latency_bounds.size() + 1> latency_buckets{};
  std::atomic<std::uint64_t> latency_count{0};
  std::atomic<std::uint64_t> latency_sum_ns{0};
};

void bump(std::atomic<std::uint64_t>& value, std::uint64_t n) noexcept {
  value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

std::uint64_t sum(const std::atomic<std::uint64_t>& value) noexcept {
  return value.load(std::memory_order_relaxed);
}

// Every block ever made. A thread that ends hands its block back for the
// next thread to take over, counts and all: the totals are the process's,
// not a thread's, and the list stays as long as the most threads at once.
class registry {
public:
  block* take() {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      block* b = free_.back();
      free_.pop_back();
      return b;
    }
    return blocks_.emplace_back(std::make_unique<block>()).get();
  }
  void give_back(block* b) {
    std::lock_guard lock(mutex_);
    free_.push_back(b);
  }
  template <class Visit>
  void each(Visit&& visit) const {
    std::lock_guard lock(mutex_);
    for (const auto& b : blocks_) visit(*b);
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<block>> blocks_;
  std::vector<block*> free_;
};

registry& all_blocks() {
  // Never destroyed: threads may still count while the process exits.
  static registry* const blocks = new registry;
  return *blocks;
}

struct thread_block {
  thread_block() : b(all_blocks().take()) {}
  ~thread_block() { all_blocks().give_back(b); }
  block* const b;
};

block& mine() {
  thread_local thread_block held;
  return *held.b;
}

constexpr std::string_view transport_label(std::size_t t) {
  constexpr std::array<std::string_view, transports> labels = {"tcp", "tls", "websocket",
                                                               "websocket-tls"};
  return labels[t];
}

void line(std::string& out, std::string_view name, std::string_view labels,
          std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void line(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  line(out, name, labels, std::to_string(value));
}

void line(std::string& out, std::string_view name, std::string_view labels, double value) {
  char number[64];
  std::snprintf(number, sizeof number, "%.17g", value);
  line(out, name, labels, std::string_view(number));
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

void add(counter c, std::uint64_t n) noexcept {
  bump(mine().counts[static_cast<std::size_t>(c)], n);
}

void error_sent(protocol::error_code code) noexcept {
  const auto i = static_cast<std::size_t>(code);
  if (i < error_codes) bump(mine().errors[i], 1);
}

void connection(transport t, int change) noexcept {
  bump(mine().connections[static_cast<std::size_t>(t)], static_cast<std::uint64_t>(change));
}

void session(protocol::session_mode form, int change) noexcept {
  bump(mine().sessions[form == protocol::session_mode::json ? 1 : 0],
       static_cast<std::uint64_t>(change));
}

void timed_frame_released(std::int64_t nanoseconds) noexcept {
  delivery_latency(static_cast<double>(nanoseconds) / 1e9);
}

void delivery_latency(double seconds) noexcept {
  block& b = mine();
  std::size_t bucket = 0;
  while (bucket < latency_bounds.size() && seconds > latency_bounds[bucket]) ++bucket;
  bump(b.latency_buckets[bucket], 1);
  bump(b.latency_count, 1);
  bump(b.latency_sum_ns, static_cast<std::uint64_t>(seconds * 1e9));
}

std::string render(const gauges& g) {
  block total;
  all_blocks().each([&](const block& b) {
    for (std::size_t i = 0; i < counters; ++i) bump(total.counts[i], sum(b.counts[i]));
    for (std::size_t i = 0; i < error_codes; ++i) bump(total.errors[i], sum(b.errors[i]));
    for (std::size_t i = 0; i < transports; ++i) bump(total.connections[i], sum(b.connections[i]));
    for (std::size_t i = 0; i < forms; ++i) bump(total.sessions[i], sum(b.sessions[i]));
    for (std::size_t i = 0; i < total.latency_buckets.size(); ++i) {
      bump(total.latency_buckets[i], sum(b.latency_buckets[i]));
    }
    bump(total.latency_count, sum(b.latency_count));
    bump(total.latency_sum_ns, sum(b.latency_sum_ns));
  });
  const auto count = [&](counter c) { return sum(total.counts[static_cast<std::size_t>(c)]); };
  // A gauge's parts are wrapped sums of ups and downs; a scrape between a
  // thread's up and another's down may see one less than none, never more.
  const auto gauge = [](const std::atomic<std::uint64_t>& v) {
    const auto signed_value = static_cast<std::int64_t>(sum(v));
    return static_cast<std::uint64_t>(signed_value < 0 ? 0 : signed_value);
  };

  std::string out;
  out.reserve(4096);
  family(out, "chat_connections", "gauge", "Connections open, by transport.");
  for (std::size_t t = 0; t < transports; ++t) {
    line(out, "chat_connections", "transport=\"" + std::string(transport_label(t)) + "\"",
         gauge(total.connections[t]));
  }
  family(out, "chat_sessions", "gauge", "Sessions logged in, by wire form.");
  line(out, "chat_sessions", "form=\"plain\"", gauge(total.sessions[0]));
  line(out, "chat_sessions", "form=\"json\"", gauge(total.sessions[1]));
  family(out, "chat_logins_total", "counter", "Logins, of guests and of accounts.");
  line(out, "chat_logins_total", "", count(counter::logins));
  family(out, "chat_messages_in_total", "counter", "Room and direct messages taken from clients.");
  line(out, "chat_messages_in_total", "", count(counter::messages_in));
  family(out, "chat_deliveries_total", "counter", "Frames handed to recipients by broadcasts.");
  line(out, "chat_deliveries_total", "", count(counter::deliveries));
  family(out, "chat_bytes_in_total", "counter", "Bytes read from clients.");
  line(out, "chat_bytes_in_total", "", count(counter::bytes_in));
  family(out, "chat_bytes_out_total", "counter", "Bytes written to clients.");
  line(out, "chat_bytes_out_total", "", count(counter::bytes_out));
  family(out, "chat_slow_consumers_total", "counter",
         "Sessions dropped for leaving too much output unread.");
  line(out, "chat_slow_consumers_total", "", count(counter::slow_consumers));
  family(out, "chat_rate_limited_total", "counter",
         "Requests turned away with rate-limited (messages, logins).");
  line(out, "chat_rate_limited_total", "",
       sum(total.errors[static_cast<std::size_t>(protocol::error_code::rate_limited)]));
  family(out, "chat_errors_total", "counter", "Error frames sent, by code.");
  for (std::size_t i = 0; i < error_codes; ++i) {
    line(out, "chat_errors_total",
         "code=\"" + std::string(protocol::to_string(static_cast<protocol::error_code>(i))) + "\"",
         sum(total.errors[i]));
  }
  if (g.history) {
    family(out, "chat_history_backlog_bytes", "gauge",
           "Messages waiting for the history writer, in bytes.");
    line(out, "chat_history_backlog_bytes", "", g.history_backlog_bytes);
    family(out, "chat_history_unstored_total", "counter",
           "Messages the history writer could not store (their senders were told).");
    line(out, "chat_history_unstored_total", "",
         sum(total.errors[static_cast<std::size_t>(protocol::error_code::storage_unavailable)]));
  }
  family(out, "chat_delivery_seconds", "histogram",
         "From a message's receipt to the write of its last recipient's copy, for a sample of "
         "messages.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_bounds.size(); ++i) {
    cumulative += sum(total.latency_buckets[i]);
    char bound[32];
    std::snprintf(bound, sizeof bound, "%g", latency_bounds[i]);
    line(out, "chat_delivery_seconds_bucket", "le=\"" + std::string(bound) + "\"", cumulative);
  }
  cumulative += sum(total.latency_buckets[latency_bounds.size()]);
  line(out, "chat_delivery_seconds_bucket", "le=\"+Inf\"", cumulative);
  line(out, "chat_delivery_seconds_sum", "", static_cast<double>(sum(total.latency_sum_ns)) / 1e9);
  line(out, "chat_delivery_seconds_count", "", sum(total.latency_count));
  return out;
}

}  // namespace chat::server::metrics
