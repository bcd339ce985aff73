#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::bench {

// What one run measured and found. Counts are over all receivers.
struct report {
  // The run asked for.
  std::string scenario;
  bool json = false;
  bool tls = false;
  // host:port; with more --port, every port, and with fanout and latency
  // which is the senders' and which the receivers'.
  std::string target;
  std::string run_id;
  unsigned receivers = 0;  // fanout, latency
  unsigned clients = 0;    // chatroom, connect
  std::uint64_t messages = 0;
  std::size_t payload = 0;
  std::uint64_t window = 0;
  double rate = 0;  // latency
  unsigned threads = 1;

  // Connections.
  std::uint64_t connections = 0;
  std::uint64_t logged_in = 0;
  std::uint64_t connections_failed = 0;
  std::string first_failure;  // the first connection's reason, if any failed
  double setup_s = 0;         // first connect to last login

  // Traffic (fanout, chatroom, latency).
  std::uint64_t sent = 0;      // measured messages, all senders
  std::uint64_t expected = 0;  // deliveries the sent messages owe
  std::uint64_t received = 0;  // distinct deliveries
  std::uint64_t lost = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t echoes = 0;     // a sender got its own message back
  std::uint64_t foreign = 0;    // messages not of this run
  std::uint64_t malformed = 0;  // this run's, damaged; or frames the protocol lacks
  std::uint64_t server_errors = 0;
  std::string first_server_error;
  std::uint64_t control_frames = 0;  // welcome, join, leave...: not counted as anything
  double elapsed_s = 0;              // first send to last delivery
  double deliveries_per_s = 0;
  double messages_per_s = 0;
  bool all_sent = true;     // false when the time bound stopped the senders
  bool time_limit = false;  // --max-seconds ended the run
  // Receivers the warm-up message never reached (of warm_up_receivers), and
  // the first of them with its port: the run stopped before measuring.
  std::uint64_t warm_up_missing = 0, warm_up_receivers = 0;
  std::string warm_up_first_missing;

  // Latency from send to the read that brought the frame, in nanoseconds.
  std::uint64_t latency_samples = 0;
  std::uint64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;

  // --acks: refs sent, acks received (each timed from send to the read that
  // brought it), acks of no awaited message; nanoseconds.
  bool acks = false;
  std::uint64_t acks_asked = 0, acks_received = 0, acks_unexpected = 0;
  std::uint64_t ack_p50_ns = 0, ack_p99_ns = 0, ack_max_ns = 0;

  // --churn: the background load asked for and what it did; its answer
  // latency (join to joined, connect to welcome) in nanoseconds.
  std::string churn;  // empty: none
  double churn_rate = 0;
  std::uint64_t churn_done = 0, churn_missed = 0, churn_refused = 0, churn_failed = 0;
  std::uint64_t churn_history_messages = 0;  // joins: what they brought back
  std::string churn_first_failure;
  double churn_per_s = 0, churn_refused_per_s = 0;
  std::uint64_t churn_p50_ns = 0, churn_p99_ns = 0, churn_max_ns = 0;
  std::uint64_t churn_refused_p50_ns = 0, churn_refused_p99_ns = 0;

  // connect.
  double connects_per_s = 0;
  std::optional<std::uint64_t> rss_before_kib, rss_after_kib;
  std::optional<double> rss_per_connection_kib;

  // Who did the work over the measured phase.
  std::optional<double> server_cpu_s;
  double generator_cpu_s = 0;
  double measured_s = 0;  // wall time the CPU figures cover
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::uint64_t reads = 0;

  // Receivers with the most loss, duplicates or reordering, worst first.
  struct receiver_note {
    std::string name;
    std::uint64_t lost = 0, duplicates = 0, reordered = 0;
  };
  std::vector<receiver_note> worst_receivers;

  // Why the run failed, one sentence each; empty when it is clean.
  std::vector<std::string> problems;
  bool ok() const noexcept { return problems.empty(); }
};

// Fills report.problems from the counts.
void judge(report& r);

// The table printed at the end of a run.
std::string render_table(const report& r);

// One JSON object on one line, for scripts.
std::string render_json(const report& r);

// The loud part: what went wrong, for standard error. Empty when ok.
std::string render_problems(const report& r);

// A snapshot for the live progress line.
struct progress {
  std::string phase;
  double elapsed_s = 0;
  std::uint64_t logged_in = 0, connections = 0;
  std::uint64_t sent = 0, to_send = 0;
  std::uint64_t received = 0, expected = 0;
  double deliveries_per_s = 0;  // since the previous snapshot
};

// One line without line end, to be written after a carriage return.
std::string render_progress(const progress& p);

// 12345678 -> "12.35 M"; for rates and counts in the table.
std::string human_number(double value);

}  // namespace chat::bench
