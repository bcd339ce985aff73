#include "bench/report.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "protocol/error_code.hpp"

namespace chat::bench {

namespace {

std::string format(const char* pattern, auto... values) {
  char buffer[256];
  const int size = std::snprintf(buffer, sizeof buffer, pattern, values...);
  const int kept = std::clamp(size, 0, static_cast<int>(sizeof buffer) - 1);
  return std::string(buffer, static_cast<std::size_t>(kept));
}

std::string count(std::uint64_t value) { return std::to_string(value); }

std::string microseconds(std::uint64_t ns) {
  return format("%.1f", static_cast<double>(ns) / 1000.0);
}

bool is_traffic(const report& r) { return r.scenario != "connect"; }

void row(std::string& out, const char* label, const std::string& value) {
  out += format("  %-16s %s\n", label, value.c_str());
}

// The problems of traffic: what the receivers counted.
void judge_traffic(report& r) {
  auto& p = r.problems;
  if (!r.all_sent) p.push_back("the senders did not send every message");
  if (r.warm_up_missing != 0) {
    p.push_back("LOSS: the warm-up message never reached " + count(r.warm_up_missing) + " of " +
                count(r.warm_up_receivers) + " receivers (first: " + r.warm_up_first_missing +
                "), so nothing was measured; across nodes, nothing relayed it to theirs");
  }
  if (r.lost != 0) {
    const double share =
        r.expected ? 100.0 * static_cast<double>(r.lost) / static_cast<double>(r.expected) : 0.0;
    p.push_back(format("LOSS: %" PRIu64 " of %" PRIu64
                       " expected deliveries never arrived (%.4f%%)",
                       r.lost, r.expected, share));
  }
  if (r.duplicates != 0) {
    p.push_back("DUPLICATES: " + count(r.duplicates) + " messages arrived twice or more");
  }
  if (r.reordered != 0) {
    p.push_back("REORDERING: " + count(r.reordered) +
                " messages arrived after a later one of their sender");
  }
  if (r.echoes != 0) {
    p.push_back("ECHOES: " + count(r.echoes) + " messages came back to their sender");
  }
  if (r.malformed != 0) {
    p.push_back("MALFORMED: " + count(r.malformed) + " frames were damaged or not of the protocol");
  }
  if (r.acks && r.acks_received < r.acks_asked) {
    p.push_back("ACKS MISSING: " + count(r.acks_asked - r.acks_received) + " of " +
                count(r.acks_asked) + " messages sent with a ref were never acked");
  }
  if (r.acks_unexpected != 0) {
    p.push_back("UNEXPECTED ACKS: " + count(r.acks_unexpected) +
                " acks came for no message awaiting one");
  }
  if (r.server_errors != 0) {
    p.push_back("SERVER ERRORS: " + count(r.server_errors) + " (first: " + r.first_server_error +
                ")");
  }
}

// A benchmark that ran into the server's fair-use limits measured the limits.
bool hit_fair_use_limits(const report& r) {
  using protocol::error_code;
  for (const error_code limit :
       {error_code::rate_limited, error_code::too_many_connections, error_code::server_full}) {
    const std::string_view code = protocol::to_string(limit);
    if (r.first_server_error.find(code) != std::string::npos ||
        r.first_failure.find(code) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string human_number(double value) {
  if (value >= 1e9) return format("%.2f G", value / 1e9);
  if (value >= 1e6) return format("%.2f M", value / 1e6);
  if (value >= 1e3) return format("%.1f k", value / 1e3);
  return format("%.0f", value);
}

void judge(report& r) {
  auto& p = r.problems;
  p.clear();
  if (r.connections_failed != 0) {
    p.push_back(count(r.connections_failed) + " of " + count(r.connections) +
                " connections failed (first: " + r.first_failure + ")");
  } else if (r.logged_in < r.connections) {
    p.push_back("only " + count(r.logged_in) + " of " + count(r.connections) +
                " clients logged in");
  }
  if (r.time_limit) p.push_back("the run hit --max-seconds before it finished");
  if (r.churn_failed != 0) {
    p.push_back("CHURN: " + count(r.churn_failed) + " of its " + r.churn +
                " failed (first: " + r.churn_first_failure + ")");
  }
  if (is_traffic(r)) judge_traffic(r);
  if (hit_fair_use_limits(r)) {
    p.push_back(
        "the server's fair-use limits are on: run it with --rate-limit 0 --max-per-ip 0"
        " and --max-clients above the client count");
  }
}

std::string render_problems(const report& r) {
  if (r.ok()) return {};
  std::string out = "chat-bench: *** RUN FAILED ***\n";
  for (const auto& problem : r.problems) out += "chat-bench: " + problem + "\n";
  for (const auto& note : r.worst_receivers) {
    out += format("chat-bench:   receiver %s: lost %" PRIu64 ", duplicates %" PRIu64
                  ", reordered %" PRIu64 "\n",
                  note.name.c_str(), note.lost, note.duplicates, note.reordered);
  }
  return out;
}

std::string render_table(const report& r) {
  std::string out = "chat-bench " + r.scenario + ", " + (r.json ? "JSON" : "plain") + " sessions" +
                    (r.tls ? " over TLS" : "") + ", " + r.target + ", run " + r.run_id + "\n";
  if (r.scenario == "fanout" || r.scenario == "latency") {
    out += format("  1 sender, %u receivers", r.receivers);
  } else {
    out += format("  %u clients", r.clients);
  }
  if (is_traffic(r)) {
    out += format(", %" PRIu64 " messages per sender of %zu bytes", r.messages, r.payload);
    if (r.scenario == "latency") {
      out += format(", %.0f/s", r.rate);
    } else {
      out += format(", window %" PRIu64, r.window);
    }
  }
  out += format(", %u generator thread%s\n\n", r.threads, r.threads == 1 ? "" : "s");

  std::string connections = count(r.logged_in) + " logged in of " + count(r.connections);
  if (r.connections_failed) connections += ", " + count(r.connections_failed) + " failed";
  row(out, "connections", connections + format(" in %.3f s", r.setup_s));
  if (is_traffic(r)) {
    row(out, "sent", count(r.sent) + " messages");
    row(out, "delivered", count(r.received) + " of " + count(r.expected) + " expected");
    row(out, "lost", count(r.lost));
    if (r.warm_up_missing) {
      row(out, "warm-up",
          "never reached " + count(r.warm_up_missing) + " of " + count(r.warm_up_receivers) +
              " receivers");
    }
    row(out, "duplicates", count(r.duplicates));
    row(out, "reordered", count(r.reordered));
    if (r.echoes) row(out, "echoes", count(r.echoes));
    if (r.malformed) row(out, "malformed", count(r.malformed));
    if (r.server_errors) row(out, "server errors", count(r.server_errors));
    row(out, "foreign", count(r.foreign) + " messages not of this run");
    row(out, "elapsed", format("%.3f s, first send to last delivery", r.elapsed_s));
    row(out, "deliveries/s", human_number(r.deliveries_per_s));
    row(out, "messages/s", human_number(r.messages_per_s));
    if (r.latency_samples) {
      row(out, "latency (us)",
          "p50 " + microseconds(r.p50_ns) + "  p90 " + microseconds(r.p90_ns) + "  p99 " +
              microseconds(r.p99_ns) + "  p99.9 " + microseconds(r.p999_ns) + "  max " +
              microseconds(r.max_ns) + "  (" + count(r.latency_samples) + " samples)");
    }
    if (r.acks) {
      row(out, "ack latency (us)",
          "p50 " + microseconds(r.ack_p50_ns) + "  p99 " + microseconds(r.ack_p99_ns) + "  max " +
              microseconds(r.ack_max_ns) + "  (" + count(r.acks_received) + " of " +
              count(r.acks_asked) + " acked)");
    }
  } else {
    row(out, "connects/s", human_number(r.connects_per_s) + " (connect and log in)");
    if (r.rss_before_kib && r.rss_after_kib) {
      row(out, "server RSS",
          format("%" PRIu64 " KiB before, %" PRIu64 " KiB after", *r.rss_before_kib,
                 *r.rss_after_kib));
    }
    if (r.rss_per_connection_kib) {
      row(out, "RSS/connection", format("%.2f KiB", *r.rss_per_connection_kib));
    }
  }
  if (!r.churn.empty()) {
    row(out, "churn",
        r.churn + ": " + count(r.churn_done) +
            format(" at %.1f/s of %.1f/s asked", r.churn_per_s, r.churn_rate) +
            (r.churn_missed ? ", " + count(r.churn_missed) + " ticks missed" : std::string()) +
            (r.churn_refused ? ", " + count(r.churn_refused) + " turned away" : std::string()) +
            (r.churn_failed ? ", " + count(r.churn_failed) + " failed" : std::string()) +
            (r.churn == "joins" ? ", " + count(r.churn_history_messages) + " past messages"
                                : std::string()));
    row(out, "churn answer (us)",
        "p50 " + microseconds(r.churn_p50_ns) + "  p99 " + microseconds(r.churn_p99_ns) + "  max " +
            microseconds(r.churn_max_ns));
    if (r.churn_refused) {
      row(out, "turned away (us)",
          "p50 " + microseconds(r.churn_refused_p50_ns) + "  p99 " +
              microseconds(r.churn_refused_p99_ns));
    }
  }
  const double wall = r.measured_s > 0 ? r.measured_s : 1;
  if (r.server_cpu_s) {
    row(out, "server CPU",
        format("%.2f s (%.0f%% of one core)", *r.server_cpu_s, 100.0 * *r.server_cpu_s / wall));
  }
  row(out, "generator CPU",
      format("%.2f s (%.0f%% of one core)", r.generator_cpu_s, 100.0 * r.generator_cpu_s / wall));
  if (r.reads) {
    row(out, "input",
        format("%.1f MB in %" PRIu64 " reads of %.0f bytes on average",
               static_cast<double>(r.bytes_in) / 1e6, r.reads,
               static_cast<double>(r.bytes_in) / static_cast<double>(r.reads)));
  }
  out += r.ok() ? "  result           ok\n" : "  result           FAILED (see standard error)\n";
  return out;
}

std::string render_json(const report& r) {
  using json = nlohmann::ordered_json;
  const auto optional = [](const auto& value) -> json {
    if (value) return json(*value);
    return json(nullptr);
  };
  json out;
  out["scenario"] = r.scenario;
  out["mode"] = r.json ? "json" : "plain";
  out["tls"] = r.tls;
  out["target"] = r.target;
  out["run_id"] = r.run_id;
  out["ok"] = r.ok();
  out["problems"] = r.problems;
  out["params"] = {{"receivers", r.receivers}, {"clients", r.clients}, {"messages", r.messages},
                   {"payload", r.payload},     {"window", r.window},   {"rate", r.rate},
                   {"threads", r.threads}};
  out["connections"] = r.connections;
  out["logged_in"] = r.logged_in;
  out["connections_failed"] = r.connections_failed;
  out["first_failure"] = r.first_failure.empty() ? json(nullptr) : json(r.first_failure);
  out["setup_s"] = r.setup_s;
  if (is_traffic(r)) {
    out["sent"] = r.sent;
    out["expected"] = r.expected;
    out["received"] = r.received;
    out["lost"] = r.lost;
    // Only when it failed: a clean run reports as before.
    if (r.warm_up_missing != 0) {
      out["warm_up_missing"] = r.warm_up_missing;
      out["warm_up_receivers"] = r.warm_up_receivers;
      out["warm_up_first_missing"] = r.warm_up_first_missing;
    }
    out["duplicates"] = r.duplicates;
    out["reordered"] = r.reordered;
    out["echoes"] = r.echoes;
    out["foreign"] = r.foreign;
    out["malformed"] = r.malformed;
    out["server_errors"] = r.server_errors;
    out["control_frames"] = r.control_frames;
    out["elapsed_s"] = r.elapsed_s;
    out["deliveries_per_s"] = r.deliveries_per_s;
    out["messages_per_s"] = r.messages_per_s;
    out["latency_samples"] = r.latency_samples;
    const bool has_latency = r.latency_samples != 0;
    const auto us = [&](std::uint64_t ns) -> json {
      if (!has_latency) return nullptr;
      return static_cast<double>(ns) / 1000.0;
    };
    out["p50_us"] = us(r.p50_ns);
    out["p90_us"] = us(r.p90_ns);
    out["p99_us"] = us(r.p99_ns);
    out["p999_us"] = us(r.p999_ns);
    out["max_us"] = us(r.max_ns);
    // Only asked-for acks are reported: a run without --acks reports as before.
    if (r.acks) {
      const auto ack_us = [&](std::uint64_t ns) -> json {
        if (r.acks_received == 0) return nullptr;
        return static_cast<double>(ns) / 1000.0;
      };
      out["acks_asked"] = r.acks_asked;
      out["acks_received"] = r.acks_received;
      out["acks_unexpected"] = r.acks_unexpected;
      out["ack_p50_us"] = ack_us(r.ack_p50_ns);
      out["ack_p99_us"] = ack_us(r.ack_p99_ns);
      out["ack_max_us"] = ack_us(r.ack_max_ns);
    }
  } else {
    out["connects_per_s"] = r.connects_per_s;
    out["rss_before_kib"] = optional(r.rss_before_kib);
    out["rss_after_kib"] = optional(r.rss_after_kib);
    out["rss_per_connection_kib"] = optional(r.rss_per_connection_kib);
  }
  if (!r.churn.empty()) {
    out["churn"] = {{"kind", r.churn},
                    {"rate", r.churn_rate},
                    {"done", r.churn_done},
                    {"missed", r.churn_missed},
                    {"refused", r.churn_refused},
                    {"failed", r.churn_failed},
                    {"history_messages", r.churn_history_messages},
                    {"per_s", r.churn_per_s},
                    {"refused_per_s", r.churn_refused_per_s},
                    {"p50_us", static_cast<double>(r.churn_p50_ns) / 1000.0},
                    {"p99_us", static_cast<double>(r.churn_p99_ns) / 1000.0},
                    {"max_us", static_cast<double>(r.churn_max_ns) / 1000.0},
                    {"refused_p50_us", static_cast<double>(r.churn_refused_p50_ns) / 1000.0},
                    {"refused_p99_us", static_cast<double>(r.churn_refused_p99_ns) / 1000.0}};
  }
  out["server_cpu_s"] = optional(r.server_cpu_s);
  out["generator_cpu_s"] = r.generator_cpu_s;
  out["measured_s"] = r.measured_s;
  out["bytes_in"] = r.bytes_in;
  out["bytes_out"] = r.bytes_out;
  out["reads"] = r.reads;
  return out.dump();
}

std::string render_progress(const progress& p) {
  std::string line = format("[%s %.1fs]", p.phase.c_str(), p.elapsed_s);
  if (p.connections) line += format(" clients %" PRIu64 "/%" PRIu64, p.logged_in, p.connections);
  if (p.to_send) line += format(" sent %" PRIu64 "/%" PRIu64, p.sent, p.to_send);
  if (p.expected) {
    line += format(" delivered %" PRIu64 "/%" PRIu64 " %s/s", p.received, p.expected,
                   human_number(p.deliveries_per_s).c_str());
  }
  return line;
}

}  // namespace chat::bench
