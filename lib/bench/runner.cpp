#include "bench/runner.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>

#include "bench/churn.hpp"
#include "bench/controller.hpp"
#include "bench/engine.hpp"
#include "bench/proc_stats.hpp"
#include "client/connection.hpp"

namespace chat::bench {

namespace {

using namespace detail;

// Large reads are what keep the generator from being the bottleneck.
constexpr std::size_t read_size = 256 * 1024;
// The longest frame a reader holds: a welcome lists every user in the room.
constexpr std::size_t max_frame = 4 << 20;

// Every name and room of a run starts with it.
std::string name_prefix(const run_state& s) { return "cb" + std::string(s.run.view()) + "-"; }

void count_churn(const churn_outcome& c, report& r) {
  r.churn_done = c.done;
  r.churn_missed = c.missed;
  r.churn_refused = c.refused;
  r.churn_failed = c.failed;
  r.churn_history_messages = c.history_messages;
  r.churn_first_failure = c.first_failure;
  r.churn_per_s = c.seconds > 0 ? static_cast<double>(c.done) / c.seconds : 0;
  r.churn_refused_per_s = c.seconds > 0 ? static_cast<double>(c.refused) / c.seconds : 0;
  r.churn_p50_ns = c.p50_ns;
  r.churn_p99_ns = c.p99_ns;
  r.churn_max_ns = c.max_ns;
  r.churn_refused_p50_ns = c.refused_p50_ns;
  r.churn_refused_p99_ns = c.refused_p99_ns;
}

// Lays out the clients and their roles for the scenario.
void cast(run_state& s) {
  const options& o = s.opts;
  std::size_t count = 0;
  switch (o.which) {
    case scenario::fanout:
    case scenario::latency:
      count = std::size_t{o.receivers} + 1;
      s.senders = 1;
      break;
    case scenario::chatroom:
      count = o.clients;
      s.senders = o.clients;
      break;
    case scenario::connect:
      count = o.clients;
      s.senders = 0;
      break;
  }
  s.max_seq = o.messages;
  for (unsigned i = 0; i < o.threads; ++i) {
    auto sh = std::make_unique<shard>(read_size, max_frame, o.threads == 1);
    sh->max_logins_in_flight = std::max(1u, o.concurrency / o.threads);
    s.shards.push_back(std::move(sh));
  }
  const std::string prefix = name_prefix(s);
  for (std::size_t i = 0; i < count; ++i) {
    std::optional<std::uint32_t> slot;
    if (o.which == scenario::chatroom) slot = static_cast<std::uint32_t>(i);
    else if (i == 0 && o.which != scenario::connect) slot = 0;
    shard& home = *s.shards[i % s.shards.size()];
    auto c = std::make_unique<client>(s, home, i, prefix + std::to_string(i), slot);
    c->receiver = o.which == scenario::chatroom || (sends_messages(o.which) && i != 0);
    c->target = target_of(o, i);
    home.members.push_back(c.get());
    s.clients.push_back(std::move(c));
  }
  // Each sender's window follows one receiver: fanout, the last (it gets each
  // message last); chatroom, the next client.
  if (o.which == scenario::fanout) {
    s.clients[0]->probe = s.clients.back().get();
    s.clients.back()->probed_sender = s.clients[0].get();
  } else if (o.which == scenario::chatroom) {
    for (std::size_t i = 0; i < count; ++i) {
      client& next = *s.clients[(i + 1) % count];
      s.clients[i]->probe = &next;
      next.probed_sender = s.clients[i].get();
    }
  }
}

// One endpoint per port of o.ports, all on the one host, looked up once.
std::vector<asio::ip::tcp::endpoint> resolve(const options& o) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(o.host, std::to_string(o.ports.front()), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve " + o.host + ": " + std::error_code(ec).message());
  }
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const std::uint16_t port : o.ports) {
    endpoints.push_back(results.begin()->endpoint());
    endpoints.back().port(port);
  }
  return endpoints;
}

// host:port, or with more than one port every one of them and its role:
// "senders 127.0.0.1:7001, receivers 127.0.0.1:7002 127.0.0.1:7003".
std::string describe_targets(const options& o) {
  using ::chat::client::format_address;
  if (o.ports.size() == 1) return format_address(o.host, o.ports.front());
  const bool sides = o.which == scenario::fanout || o.which == scenario::latency;
  std::string out =
      sides ? "senders " + format_address(o.host, o.ports.front()) + ", receivers" : "round-robin";
  for (std::size_t i = sides ? 1 : 0; i < o.ports.size(); ++i) {
    out += " " + format_address(o.host, o.ports[i]);
  }
  return out;
}

void describe_request(const options& o, const run_state& s, report& r) {
  r.scenario = std::string(to_string(o.which));
  r.json = o.json;
  r.tls = o.tls;
  r.target = describe_targets(o);
  r.run_id = std::string(s.run.view());
  r.receivers = (o.which == scenario::fanout || o.which == scenario::latency) ? o.receivers : 0;
  r.clients = (o.which == scenario::chatroom || o.which == scenario::connect) ? o.clients : 0;
  r.messages = sends_messages(o.which) ? o.messages : 0;
  r.payload = o.payload;
  r.window = o.which == scenario::latency ? 0 : o.window;
  r.rate = o.which == scenario::latency ? o.rate : 0;
  r.threads = o.threads;
  r.acks = o.acks;
  if (o.churn != churn_kind::none) {
    r.churn = std::string(to_string(o.churn));
    r.churn_rate = o.churn_rate;
  }
}

// Adds up what the clients counted, once every thread has finished.
void count_up(const run_state& s, const controller& ctl, report& r) {
  r.connections = s.clients.size();
  r.logged_in = s.logged_in.load();
  r.connections_failed = s.failed.load();
  r.first_failure = s.first_failure;
  for (const auto& sh : s.shards) {
    r.bytes_in += sh->bytes_in.load();
    r.bytes_out += sh->bytes_out;
    r.reads += sh->reads;
  }
  if (s.opts.which == scenario::connect) {
    r.connects_per_s = r.setup_s > 0 ? static_cast<double>(r.logged_in) / r.setup_s : 0;
    if (r.rss_before_kib && r.rss_after_kib && r.logged_in > 0) {
      r.rss_per_connection_kib =
          (static_cast<double>(*r.rss_after_kib) - static_cast<double>(*r.rss_before_kib)) /
          static_cast<double>(r.logged_in);
    }
  }

  std::vector<std::uint64_t> sent_per_slot(s.senders, 0);
  for (const auto& c : s.clients) {
    if (c->slot) sent_per_slot[*c->slot] = c->sent.load();
  }
  latency_histogram latencies;
  latency_histogram ack_latencies;
  std::uint64_t last_delivery_ns = 0;
  for (const auto& sh : s.shards) {
    latencies.merge(sh->latencies);
    ack_latencies.merge(sh->ack_latencies);
    last_delivery_ns = std::max(last_delivery_ns, sh->last_delivery_ns);
  }
  for (const auto& c : s.clients) {
    const tally& t = c->counts;
    r.duplicates += t.duplicates();
    r.reordered += t.reordered();
    r.echoes += t.echoes();
    r.foreign += t.foreign();
    r.malformed += t.malformed() + c->malformed_frames;
    r.server_errors += c->server_errors;
    r.control_frames += c->control_frames;
    r.acks_asked += c->acks_asked.load();
    r.acks_received += c->acks_received.load();
    r.acks_unexpected += c->acks_unexpected;
    if (r.first_server_error.empty()) r.first_server_error = c->first_server_error;
    if (!c->receiver) continue;
    std::uint64_t owed = 0;
    for (std::uint32_t slot = 0; slot < s.senders; ++slot) {
      if (c->slot != slot) owed += sent_per_slot[slot];
    }
    r.expected += owed;
    r.received += t.received();
    const std::uint64_t lost = t.lost(sent_per_slot);
    r.lost += lost;
    if (lost || t.duplicates() || t.reordered()) {
      r.worst_receivers.push_back({c->name, lost, t.duplicates(), t.reordered()});
    }
  }
  for (const std::uint64_t n : sent_per_slot) r.sent += n;
  r.all_sent = r.sent == std::uint64_t{s.senders} * s.opts.messages;
  std::sort(r.worst_receivers.begin(), r.worst_receivers.end(), [](const auto& a, const auto& b) {
    return a.lost + a.duplicates + a.reordered > b.lost + b.duplicates + b.reordered;
  });
  if (r.worst_receivers.size() > 5) r.worst_receivers.resize(5);

  if (ctl.measured) {
    const auto& [start, end] = *ctl.measured;
    r.measured_s = static_cast<double>(end.at_ns - start.at_ns) / 1e9;
    r.generator_cpu_s = end.generator_cpu_s - start.generator_cpu_s;
    if (start.server_cpu_s && end.server_cpu_s) {
      r.server_cpu_s = *end.server_cpu_s - *start.server_cpu_s;
    }
    if (sends_messages(s.opts.which)) {
      // deliveries/s runs from the first send to the last delivery.
      const std::uint64_t last = last_delivery_ns > start.at_ns ? last_delivery_ns : end.at_ns;
      r.elapsed_s = static_cast<double>(last - start.at_ns) / 1e9;
      if (r.elapsed_s > 0) {
        r.deliveries_per_s = static_cast<double>(r.received) / r.elapsed_s;
        r.messages_per_s = static_cast<double>(r.sent) / r.elapsed_s;
      }
    }
  }
  r.latency_samples = latencies.count();
  r.p50_ns = latencies.percentile(0.50);
  r.p90_ns = latencies.percentile(0.90);
  r.p99_ns = latencies.percentile(0.99);
  r.p999_ns = latencies.percentile(0.999);
  r.max_ns = latencies.max();
  r.ack_p50_ns = ack_latencies.percentile(0.50);
  r.ack_p99_ns = ack_latencies.percentile(0.99);
  r.ack_max_ns = ack_latencies.max();
}

}  // namespace

report run(const options& opts, const std::function<void(const progress&)>& on_progress) {
  run_state s(opts, run_id::random());
  report r;
  describe_request(opts, s, r);
  s.endpoints = resolve(opts);
  cast(s);

  if (opts.server_pid) r.rss_before_kib = resident_kib(*opts.server_pid);

  std::optional<churn> background;
  if (opts.churn != churn_kind::none) {
    background.emplace(opts, name_prefix(s));
    background->prepare();
    background->start();
  }

  controller ctl(s, r, on_progress);
  for (const auto& sh : s.shards) asio::co_spawn(sh->io, spawn_clients(*sh), log_exception);
  asio::co_spawn(s.shards.front()->io, ctl(), log_exception);

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.shards.size(); ++i) {
    threads.emplace_back([&io = s.shards[i]->io] { io.run(); });
  }
  s.shards.front()->io.run();
  for (auto& t : threads) t.join();
  if (background) count_churn(background->stop(), r);
  if (ctl.error) std::rethrow_exception(ctl.error);

  count_up(s, ctl, r);
  judge(r);
  return r;
}

}  // namespace chat::bench
