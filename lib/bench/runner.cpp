#include "bench/runner.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/engine.hpp"
#include "bench/proc_stats.hpp"
#include "client/connection.hpp"

namespace chat::bench {

namespace {

using namespace detail;
using std::chrono::milliseconds;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Large reads are what keep the generator from being the bottleneck.
constexpr std::size_t read_size = 256 * 1024;
// The longest frame a reader holds: a welcome lists every user in the room.
constexpr std::size_t max_frame = 4 << 20;

constexpr milliseconds tick{10};
constexpr milliseconds progress_every{250};
constexpr milliseconds warm_up_resend{200};
// The input must be still this long before the clock starts: join
// notifications of the last logins are still arriving.
constexpr milliseconds settle_quiet{100};
constexpr milliseconds settle_limit{3000};

bool is_traffic(scenario which) { return which != scenario::connect; }

std::uint64_t sum_bytes_in(const run_state& s) {
  std::uint64_t total = 0;
  for (const auto& sh : s.shards) total += sh->bytes_in.load(std::memory_order_relaxed);
  return total;
}

std::uint64_t sum_received(const run_state& s) {
  std::uint64_t total = 0;
  for (const auto& c : s.clients) {
    if (c->receiver) total += c->received_published.load(std::memory_order_relaxed);
  }
  return total;
}

std::uint64_t sum_sent(const run_state& s) {
  std::uint64_t total = 0;
  for (const auto& c : s.clients) {
    if (c->slot) total += c->sent.load(std::memory_order_relaxed);
  }
  return total;
}

bool all_senders_done(const run_state& s) {
  return std::all_of(s.clients.begin(), s.clients.end(), [](const auto& c) {
    return !c->slot || c->sending_done.load(std::memory_order_acquire);
  });
}

// The measured messages owed to all receivers if every sender sends all.
std::uint64_t full_expectation(const run_state& s) {
  std::uint64_t per_receiver_senders = 0;
  for (const auto& c : s.clients) {
    if (!c->receiver) continue;
    per_receiver_senders += s.senders - (c->slot ? 1 : 0);
  }
  return per_receiver_senders * s.opts.messages;
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
    auto sh = std::make_unique<shard>(read_size, max_frame);
    sh->max_logins_in_flight = std::max(1u, o.concurrency / o.threads);
    s.shards.push_back(std::move(sh));
  }
  const std::string prefix = "cb" + std::string(s.run.view()) + "-";
  for (std::size_t i = 0; i < count; ++i) {
    std::optional<std::uint32_t> slot;
    if (o.which == scenario::chatroom) slot = static_cast<std::uint32_t>(i);
    else if (i == 0 && o.which != scenario::connect) slot = 0;
    shard& home = *s.shards[i % s.shards.size()];
    auto c = std::make_unique<client>(s, home, i, prefix + std::to_string(i), slot);
    c->receiver = o.which == scenario::chatroom || (is_traffic(o.which) && i != 0);
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

asio::ip::tcp::endpoint resolve(const options& o) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve " + o.host + ": " + std::error_code(ec).message());
  }
  return results.begin()->endpoint();
}

// The run's controller, on the calling thread's shard: moves the run through
// its phases, watches the bounds, and stops everything at the end.
class controller {
public:
  // CPU time and wall clock at the start and end of what a scenario measures.
  struct mark {
    std::uint64_t at_ns = 0;
    std::optional<double> server_cpu_s;
    double generator_cpu_s = 0;
  };

  // Construct right before the clients start connecting.
  controller(run_state& s, report& r, const std::function<void(const progress&)>& on_progress)
      : s_(s), r_(r), on_progress_(on_progress), timer_(s.shards.front()->io) {
    connect_start_ = take_mark();
  }

  // What the scenario measured: connecting and logging in (connect), or the
  // traffic from the first send (the others). Unset when it never got there.
  std::optional<std::pair<mark, mark>> measured;

  // Whatever happens, ends with stop_all(): the threads run until then.
  asio::awaitable<void> operator()() {
    try {
      co_await phases();
      show("done", true);
    } catch (...) {
      error = std::current_exception();
    }
    stop_all();
  }

  // What the controller threw, to be rethrown once the threads are done.
  std::exception_ptr error;

private:
  asio::awaitable<void> phases() {
    deadline_ = s_.origin + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(s_.opts.max_seconds));
    // No co_await inside conditions: g++ 12 has miscompiled them.
    const bool logged_in = co_await log_in_all();
    if (!logged_in) co_return;
    if (s_.opts.which == scenario::connect) {
      co_await hold();
      co_return;
    }
    const bool warm = co_await warm_up();
    if (warm) co_await measure();
  }

  bool failed() const { return s_.failed.load(std::memory_order_acquire) != 0; }

  mark take_mark() const {
    mark m;
    m.at_ns = s_.now_ns();
    if (s_.opts.server_pid) m.server_cpu_s = cpu_seconds(*s_.opts.server_pid);
    m.generator_cpu_s = own_cpu_seconds();
    return m;
  }

  bool past_deadline() {
    if (std::chrono::steady_clock::now() < deadline_) return false;
    r_.time_limit = true;
    return true;
  }

  asio::awaitable<void> sleep(milliseconds d) {
    timer_.expires_after(d);
    co_await timer_.async_wait(use_tuple);
  }

  // `last`: the final state, shown whenever it comes.
  void show(const std::string& phase, bool last = false) {
    if (!on_progress_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!last && now - last_shown_ < progress_every) return;
    progress p;
    p.phase = phase;
    p.elapsed_s = std::chrono::duration<double>(now - s_.origin).count();
    p.connections = s_.clients.size();
    p.logged_in = s_.logged_in.load(std::memory_order_relaxed);
    if (phase == "sending" || (last && is_traffic(s_.opts.which))) {
      p.sent = sum_sent(s_);
      p.to_send = std::uint64_t{s_.senders} * s_.opts.messages;
      p.received = sum_received(s_);
      p.expected = full_expectation(s_);
      const double dt = std::chrono::duration<double>(now - last_shown_).count();
      if (last_shown_received_ <= p.received && dt > 0 && dt < 10) {
        p.deliveries_per_s = static_cast<double>(p.received - last_shown_received_) / dt;
      }
      last_shown_received_ = p.received;
    }
    last_shown_ = now;
    on_progress_(p);
  }

  asio::awaitable<bool> log_in_all() {
    const std::uint64_t total = s_.clients.size();
    for (;;) {
      if (s_.logged_in.load(std::memory_order_acquire) == total) break;
      if (failed() || past_deadline()) co_return false;
      show("connecting");
      co_await sleep(tick);
    }
    mark end = take_mark();
    end.at_ns = s_.last_login_ns.load();
    r_.setup_s = static_cast<double>(end.at_ns - connect_start_.at_ns) / 1e9;
    if (s_.opts.which == scenario::connect) measured.emplace(connect_start_, end);
    co_return true;
  }

  // Waits until no byte has arrived for `quiet`, within `limit`.
  asio::awaitable<void> settle(milliseconds quiet, milliseconds limit, const std::string& phase) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    std::uint64_t last = sum_bytes_in(s_);
    auto still_since = std::chrono::steady_clock::now();
    while (!failed() && !past_deadline()) {
      co_await sleep(tick);
      show(phase);
      const auto now = std::chrono::steady_clock::now();
      const std::uint64_t in = sum_bytes_in(s_);
      if (in != last) {
        last = in;
        still_since = now;
      } else if (now - still_since >= quiet) {
        break;
      }
      if (now >= give_up) break;
    }
  }

  asio::awaitable<void> hold() {
    // Join notifications of the last logins are still queued in the server;
    // its RSS counts them until they are out.
    co_await settle(milliseconds(200), milliseconds(10'000), "settling");
    const auto until = std::chrono::steady_clock::now() + s_.opts.hold;
    while (std::chrono::steady_clock::now() < until && !failed() && !past_deadline()) {
      show("holding");
      co_await sleep(tick);
    }
    if (s_.opts.server_pid) r_.rss_after_kib = resident_kib(*s_.opts.server_pid);
  }

  // A warm-up message from the first sender until every receiver has one:
  // then each is surely in the room and past its join backlog.
  asio::awaitable<bool> warm_up() {
    client& first = *s_.clients.front();
    auto last_sent = std::chrono::steady_clock::time_point{};
    for (;;) {
      const bool all = std::all_of(s_.clients.begin(), s_.clients.end(), [&](const auto& c) {
        return !c->receiver || c.get() == &first || c->warmed_up.load(std::memory_order_relaxed);
      });
      if (all) break;
      if (failed() || past_deadline()) co_return false;
      if (std::chrono::steady_clock::now() - last_sent >= warm_up_resend) {
        last_sent = std::chrono::steady_clock::now();
        const bool sent = co_await send_warm_up(first);
        if (!sent) co_return false;
      }
      show("warming up");
      co_await sleep(tick);
    }
    co_await settle(settle_quiet, settle_limit, "warming up");
    co_return !failed() && !r_.time_limit;
  }

  asio::awaitable<void> measure() {
    const options& o = s_.opts;
    const std::uint64_t expected = full_expectation(s_);
    const mark start = take_mark();
    for (const auto& c : s_.clients) {
      if (!c->slot) continue;
      client* sender = c.get();
      asio::co_spawn(sender->home.io,
                     o.which == scenario::latency ? send_at_rate(*sender) : send_windowed(*sender),
                     log_exception);
    }
    std::uint64_t last_received = 0;
    auto last_progress = std::chrono::steady_clock::now();
    for (;;) {
      co_await sleep(tick);
      show("sending");
      const auto now = std::chrono::steady_clock::now();
      const std::uint64_t received = sum_received(s_);
      if (received >= expected) break;
      if (received != last_received) {
        last_received = received;
        last_progress = now;
      }
      // At a fixed rate deliveries pause between messages; only once all is
      // sent does silence mean loss.
      const bool may_be_quiet = o.which != scenario::latency || all_senders_done(s_);
      if (may_be_quiet && now - last_progress >= o.quiet) break;
      if (failed() || past_deadline()) break;
    }
    measured.emplace(start, take_mark());
  }

  void stop_all() {
    s_.stopping.store(true);
    for (const auto& sh : s_.shards) {
      shard* target = sh.get();
      asio::post(target->io, [target] {
        for (client* c : target->members) close_client(*c);
        target->login_slot_freed.cancel();
        target->keep_running.reset();
      });
    }
  }

  run_state& s_;
  report& r_;
  const std::function<void(const progress&)>& on_progress_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point last_shown_{};
  std::uint64_t last_shown_received_ = 0;
  mark connect_start_;
};

void describe_request(const options& o, const run_state& s, report& r) {
  r.scenario = std::string(to_string(o.which));
  r.json = o.json;
  r.target = ::chat::client::format_address(o.host, o.port);
  r.run_id = std::string(s.run.view());
  r.receivers = (o.which == scenario::fanout || o.which == scenario::latency) ? o.receivers : 0;
  r.clients = (o.which == scenario::chatroom || o.which == scenario::connect) ? o.clients : 0;
  r.messages = is_traffic(o.which) ? o.messages : 0;
  r.payload = o.payload;
  r.window = o.which == scenario::latency ? 0 : o.window;
  r.rate = o.which == scenario::latency ? o.rate : 0;
  r.threads = o.threads;
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
  std::uint64_t last_delivery_ns = 0;
  for (const auto& sh : s.shards) {
    latencies.merge(sh->latencies);
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
    if (is_traffic(s.opts.which)) {
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
}

}  // namespace

report run(const options& opts, const std::function<void(const progress&)>& on_progress) {
  run_state s(opts, run_id::random());
  report r;
  describe_request(opts, s, r);
  s.endpoint = resolve(opts);
  cast(s);

  if (opts.server_pid) r.rss_before_kib = resident_kib(*opts.server_pid);

  controller ctl(s, r, on_progress);
  for (const auto& sh : s.shards) asio::co_spawn(sh->io, spawn_clients(*sh), log_exception);
  asio::co_spawn(s.shards.front()->io, ctl(), log_exception);

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.shards.size(); ++i) {
    threads.emplace_back([&io = s.shards[i]->io] { io.run(); });
  }
  s.shards.front()->io.run();
  for (auto& t : threads) t.join();
  if (ctl.error) std::rethrow_exception(ctl.error);

  count_up(s, ctl, r);
  judge(r);
  return r;
}

}  // namespace chat::bench
