#include "bench/controller.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/proc_stats.hpp"

namespace chat::bench::detail {

namespace {

using std::chrono::milliseconds;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr milliseconds tick{10};
constexpr milliseconds progress_every{250};
constexpr milliseconds warm_up_resend{200};
constexpr milliseconds warm_up_least_patience{5 * warm_up_resend};
// The input must be still this long before the clock starts: join
// notifications of the last logins are still arriving.
constexpr milliseconds settle_quiet{100};
constexpr milliseconds settle_limit{3000};

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

// --acks: every sender done, and every ack it asked for came or was passed over.
bool acks_settled(const run_state& s) {
  if (!s.opts.acks) return true;
  if (!all_senders_done(s)) return false;
  return std::all_of(s.clients.begin(), s.clients.end(), [](const auto& c) {
    return c->acks_received.load(std::memory_order_relaxed) +
               c->acks_passed_over.load(std::memory_order_relaxed) >=
           c->acks_asked.load(std::memory_order_relaxed);
  });
}

std::uint64_t sum_acks(const run_state& s) {
  std::uint64_t total = 0;
  for (const auto& c : s.clients) total += c->acks_received.load(std::memory_order_relaxed);
  return total;
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

}  // namespace

controller::controller(run_state& s, report& r,
                       const std::function<void(const progress&)>& on_progress)
    : s_(s), r_(r), on_progress_(on_progress), timer_(s.shards.front()->io) {
  connect_start_ = take_mark();
}

asio::awaitable<void> controller::operator()() {
  try {
    co_await phases();
    show("done", true);
  } catch (...) {
    error = std::current_exception();
  }
  stop_all();
}

asio::awaitable<void> controller::phases() {
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

bool controller::failed() const { return s_.failed.load(std::memory_order_acquire) != 0; }

controller::mark controller::take_mark() const {
  mark m;
  m.at_ns = s_.now_ns();
  if (s_.opts.server_pid) m.server_cpu_s = cpu_seconds(*s_.opts.server_pid);
  m.generator_cpu_s = own_cpu_seconds();
  return m;
}

bool controller::past_deadline() {
  if (std::chrono::steady_clock::now() < deadline_) return false;
  r_.time_limit = true;
  return true;
}

asio::awaitable<void> controller::sleep(milliseconds d) {
  timer_.expires_after(d);
  co_await timer_.async_wait(use_tuple);
}

void controller::show(const std::string& phase, bool last) {
  if (!on_progress_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!last && now - last_shown_ < progress_every) return;
  progress p;
  p.phase = phase;
  p.elapsed_s = std::chrono::duration<double>(now - s_.origin).count();
  p.connections = s_.clients.size();
  p.logged_in = s_.logged_in.load(std::memory_order_relaxed);
  if (phase == "sending" || (last && sends_messages(s_.opts.which))) {
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

asio::awaitable<bool> controller::log_in_all() {
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

asio::awaitable<void> controller::settle(milliseconds quiet, milliseconds limit,
                                         const std::string& phase) {
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

asio::awaitable<void> controller::hold() {
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
// then each is surely in the room and past its join backlog. Receivers it
// has not reached when none comes closer for --quiet-ms (and at least five
// resends) are loss: across nodes, nothing relayed it to theirs.
asio::awaitable<bool> controller::warm_up() {
  client& first = *s_.clients.front();
  auto last_sent = std::chrono::steady_clock::time_point{};
  auto last_change = std::chrono::steady_clock::now();
  // Long enough for a few resends, whatever --quiet-ms says.
  const milliseconds warm_up_patience = std::max(s_.opts.quiet, warm_up_least_patience);
  std::uint64_t last_warmed = 0;
  std::uint64_t last_backlog = 0;
  for (;;) {
    std::uint64_t waiting = 0;
    std::uint64_t warmed = 0;
    // Control frames read by those still waiting: their join backlog.
    std::uint64_t backlog = 0;
    for (const auto& c : s_.clients) {
      if (!c->receiver || c.get() == &first) continue;
      if (c->warmed_up.load(std::memory_order_relaxed)) {
        ++warmed;
      } else {
        ++waiting;
        backlog += c->control_published.load(std::memory_order_relaxed);
      }
    }
    if (waiting == 0) break;
    if (failed() || past_deadline()) co_return false;
    const auto now = std::chrono::steady_clock::now();
    if (warmed != last_warmed || backlog != last_backlog) {
      last_warmed = warmed;
      last_backlog = backlog;
      last_change = now;
    } else if (now - last_change >= warm_up_patience) {
      note_warm_up_missing(first, waiting, warmed + waiting);
      co_return false;
    }
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

void controller::note_warm_up_missing(const client& first, std::uint64_t missing,
                                      std::uint64_t receivers) {
  r_.warm_up_missing = missing;
  r_.warm_up_receivers = receivers;
  for (const auto& c : s_.clients) {
    if (!c->receiver || c.get() == &first || c->warmed_up.load(std::memory_order_relaxed)) {
      continue;
    }
    r_.warm_up_first_missing = c->name + " on port " + std::to_string(s_.opts.ports[c->target]);
    break;
  }
}

asio::awaitable<void> controller::measure() {
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
  std::uint64_t last_acks = 0;
  auto last_progress = std::chrono::steady_clock::now();
  for (;;) {
    co_await sleep(tick);
    show("sending");
    const auto now = std::chrono::steady_clock::now();
    const std::uint64_t received = sum_received(s_);
    // With --acks the acks may come after the last delivery (they wait for
    // the disk): the run waits for them too, as long as they keep coming.
    if (received >= expected && acks_settled(s_)) break;
    const std::uint64_t acks = o.acks ? sum_acks(s_) : 0;
    if (received != last_received || acks != last_acks) {
      last_received = received;
      last_acks = acks;
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

void controller::stop_all() {
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

}  // namespace chat::bench::detail
