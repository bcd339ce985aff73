#include "bench/churn.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/latency_histogram.hpp"
#include "client/connection.hpp"
#include "client/server_event.hpp"
#include "protocol/event.hpp"

namespace chat::bench {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;
using client::connection;
using client::server_event;

namespace {

// Joins pipelined on the one joining connection: a tick that finds them all
// unanswered is counted as missed, so a server that cannot keep up shows as
// a lower rate, not as an ever longer queue.
constexpr std::size_t max_joins_in_flight = 64;
// Logins in flight: enough that --churn's rate really arrives at a server
// slower than it (password hashing), which must then turn logins away.
constexpr std::size_t max_logins_in_flight = 4000;

// The server turned a login away for now (rate-limited): an answer, not a failure.
struct refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::uint64_t nanoseconds_since(clock_type::time_point start) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - start).count());
}

std::string room_request(std::string_view type, std::string_view room) {
  return R"({"type":")" + std::string(type) + R"(","room":")" + std::string(room) + "\"}\n";
}

// Reads frames until one of `wanted` kind; an error frame or the end of the
// connection throws, naming `doing`.
asio::awaitable<server_event> await_event(connection& link, server_event::kind wanted,
                                          std::string_view doing) {
  for (;;) {
    const auto frame = co_await link.read_frame();
    if (!frame) throw std::runtime_error(std::string(doing) + ": the server closed");
    server_event event = client::decode_server_event(*frame);
    if (event.type == wanted) co_return event;
    if (event.type == server_event::kind::error) {
      const std::string why = std::string(doing) + ": " + event.code + ": " + event.text;
      if (event.code == "rate-limited") throw refused(why);
      throw std::runtime_error(why);
    }
  }
}

}  // namespace

struct churn::state {
  state(const options& o, std::string prefix) : opts(o), name_prefix(std::move(prefix)) {}

  const options& opts;
  const std::string name_prefix;
  asio::io_context io;
  std::thread thread;
  std::exception_ptr error;
  std::atomic<bool> stopping{false};
  clock_type::time_point started;

  // joins: the one joining client, its rooms, and when each join in flight
  // was sent, oldest first (the server answers a session in order).
  std::optional<connection> joiner;
  std::vector<std::string> rooms;
  std::deque<clock_type::time_point> joins_in_flight;
  std::size_t logins_in_flight = 0;
  std::uint64_t logins_begun = 0;
  // Every log_in() so far, setup included: it picks the next port.
  std::uint64_t logins_begun_anywhere = 0;

  latency_histogram answers;
  latency_histogram refusals;
  churn_outcome outcome;

  void fail(const std::string& reason) {
    if (stopping) return;
    if (outcome.failed++ == 0) outcome.first_failure = reason;
  }

  // `hello` defaults to a guest's.
  asio::awaitable<connection> log_in(const std::string& name, std::string hello = {}) {
    // Round-robin over --port's targets: churn has no sides to take.
    const std::uint16_t port = opts.ports[logins_begun_anywhere++ % opts.ports.size()];
    auto link = co_await connection::connect(io.get_executor(), opts.host, port);
    // Not a conditional inside the co_await: GCC 12 frees such a temporary twice.
    if (hello.empty()) hello = protocol::encode_hello_request(name);
    co_await link.write(hello);
    co_await await_event(link, server_event::kind::welcome, "log in as " + name);
    co_return link;
  }

  std::string account_name(std::uint64_t turn) const {
    return name_prefix + "a" + std::to_string(turn % opts.churn_accounts);
  }
  // One password for all: each login pays the full hash all the same.
  static constexpr std::string_view password = "churn password";

  asio::awaitable<void> register_accounts() {
    for (unsigned i = 0; i < opts.churn_accounts; ++i) {
      const std::string name = account_name(i);
      std::string hello = protocol::encode_hello_request(name, password);
      hello.insert(hello.size() - 2, R"(,"register":true)");
      auto link = co_await log_in(name, std::move(hello));
      co_await link.write(protocol::encode_bare_request("quit"));
    }
  }

  // Rooms with a full history each, written, then left, so that each join
  // of the measured phase brings one back from the disk.
  asio::awaitable<void> fill_rooms() {
    joiner.emplace(co_await log_in(name_prefix + "j"));
    const std::string text(opts.payload, 'h');
    for (unsigned i = 0; i < opts.churn_rooms; ++i) {
      rooms.push_back(name_prefix + "h" + std::to_string(i));
      const std::string& room = rooms.back();
      std::string batch = room_request("join", room);
      for (unsigned m = 0; m < opts.churn_history; ++m) {
        batch += R"({"type":"msg","room":")" + room + R"(","text":")" + text + "\"}\n";
      }
      batch += room_request("leave", room);
      co_await joiner->write(batch);
      co_await await_event(*joiner, server_event::kind::left, "fill room " + room);
    }
    co_await joiner->write(protocol::encode_bare_request("ping"));
    co_await await_event(*joiner, server_event::kind::pong, "wait for the rooms to be written");
  }

  asio::awaitable<void> read_join_answers() {
    try {
      for (;;) {
        const auto frame = co_await joiner->read_frame();
        if (!frame) throw std::runtime_error("the joining client's connection closed");
        const server_event event = client::decode_server_event(*frame);
        if (event.type == server_event::kind::joined && !joins_in_flight.empty()) {
          answers.record(
              static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             clock_type::now() - joins_in_flight.front())
                                             .count()));
          joins_in_flight.pop_front();
          ++outcome.done;
        } else if (event.type == server_event::kind::message && event.history) {
          ++outcome.history_messages;
        } else if (event.type == server_event::kind::error) {
          fail("join: " + event.code + ": " + event.text);
        }
      }
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  asio::awaitable<void> join_one(std::size_t turn) {
    const std::string& room = rooms[turn % rooms.size()];
    joins_in_flight.push_back(clock_type::now());
    try {
      co_await joiner->write(room_request("join", room) + room_request("leave", room));
    } catch (const std::exception& e) {
      fail(std::string("join: ") + e.what());
    }
  }

  asio::awaitable<void> login_one() {
    ++logins_in_flight;
    const auto begun = clock_type::now();
    try {
      const std::uint64_t turn = logins_begun++;
      std::string name = name_prefix + "l" + std::to_string(turn);
      std::string hello;
      if (opts.churn == churn_kind::accounts) {
        name = account_name(turn);
        hello = protocol::encode_hello_request(name, password);
      }
      auto link = co_await log_in(name, std::move(hello));
      answers.record(nanoseconds_since(begun));
      ++outcome.done;
      co_await link.write(protocol::encode_bare_request("quit"));
    } catch (const refused&) {
      refusals.record(nanoseconds_since(begun));
      ++outcome.refused;
    } catch (const std::exception& e) {
      fail(e.what());
    }
    --logins_in_flight;
  }

  asio::awaitable<void> pace() {
    if (opts.churn == churn_kind::joins) {
      asio::co_spawn(io, read_join_answers(), asio::detached);
    }
    const auto period = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(1.0 / opts.churn_rate));
    asio::steady_timer tick(io);
    auto next = clock_type::now();
    for (std::size_t turn = 0; !stopping; ++turn) {
      if (opts.churn == churn_kind::joins) {
        if (joins_in_flight.size() < max_joins_in_flight) {
          asio::co_spawn(io, join_one(turn), asio::detached);
        } else {
          ++outcome.missed;
        }
      } else if (logins_in_flight < max_logins_in_flight) {
        asio::co_spawn(io, login_one(), asio::detached);
      } else {
        ++outcome.missed;
      }
      next += period;
      tick.expires_at(next);
      co_await tick.async_wait(asio::use_awaitable);
    }
  }
};

churn::churn(const options& opts, std::string name_prefix)
    : state_(std::make_unique<state>(opts, std::move(name_prefix))) {}

churn::~churn() {
  if (state_->thread.joinable()) stop();
}

void churn::prepare() {
  if (state_->opts.churn == churn_kind::logins) return;
  asio::co_spawn(
      state_->io,
      state_->opts.churn == churn_kind::joins ? state_->fill_rooms() : state_->register_accounts(),
      [&s = *state_](std::exception_ptr e) { s.error = e; });
  state_->io.run();
  state_->io.restart();
  if (state_->error) {
    try {
      std::rethrow_exception(state_->error);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--churn could not set the scene: ") + e.what());
    }
  }
}

void churn::start() {
  state& s = *state_;
  s.started = clock_type::now();
  asio::co_spawn(s.io, s.pace(), asio::detached);
  s.thread = std::thread([&s] { s.io.run(); });
}

churn_outcome churn::stop() {
  state& s = *state_;
  s.stopping = true;
  s.io.stop();
  s.thread.join();
  s.outcome.seconds = std::chrono::duration<double>(clock_type::now() - s.started).count();
  s.outcome.p50_ns = s.answers.percentile(0.50);
  s.outcome.p99_ns = s.answers.percentile(0.99);
  s.outcome.max_ns = s.answers.max();
  s.outcome.refused_p50_ns = s.refusals.percentile(0.50);
  s.outcome.refused_p99_ns = s.refusals.percentile(0.99);
  return s.outcome;
}

}  // namespace chat::bench
