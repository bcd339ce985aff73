#include <catch2/catch.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io_threads.hpp"
#include "redis/client.hpp"
#include "redis_process.hpp"

using chat::redis::errc;
using chat::redis::reply;
using chat::test::eventually;
using chat::test::io_threads;
using chat::test::redis_process;
using chat::test::run_command;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Options small enough that every outage in these tests is seen quickly.
chat::redis::client_options quick_options() {
  chat::redis::client_options options;
  options.connection.connect_timeout = 500ms;
  options.connection.health_interval = 200ms;
  options.connection.reply_timeout = 400ms;
  options.reconnect.initial_backoff = 20ms;
  options.reconnect.max_backoff = 200ms;
  return options;
}

// Every up/down the client reported, in order.
struct state_log {
  std::mutex mutex;
  std::vector<bool> states;
  chat::redis::state_handler handler() {
    return [this](bool up) {
      std::lock_guard lock(mutex);
      states.push_back(up);
    };
  }
  std::vector<bool> taken() {
    std::lock_guard lock(mutex);
    return states;
  }
};

// The errc a command failed with; fails the test if it succeeded.
boost::system::error_code failure_of(io_threads& io, chat::redis::client& c,
                                     std::vector<std::string> args) {
  (void)io;
  auto [error, r] = chat::test::try_command(c, std::move(args));
  if (!error) FAIL("the command succeeded: " << r.describe());
  return error;
}

struct scene {
  redis_process redis;
  // Before io: the client may report a last "down" while io's threads are joined.
  state_log states;
  io_threads io;
  std::shared_ptr<chat::redis::client> client;

  explicit scene(chat::redis::client_options options = quick_options(), int db = 0) {
    client = chat::redis::client::create(io.context(), chat::redis::parse_address(redis.url(db)),
                                         options, states.handler());
    client->start();
    REQUIRE(eventually([&] { return client->is_up(); }));
  }
  ~scene() { client->stop(); }
};

}  // namespace

TEST_CASE("commands get replies of every kind") {
  scene s;
  auto& c = *s.client;
  CHECK(run_command(s.io, c, {"SET", "greeting", "hello\r\nworld"}) == reply::status("OK"));
  CHECK(run_command(s.io, c, {"GET", "greeting"}) == reply::bulk("hello\r\nworld"));
  CHECK(run_command(s.io, c, {"GET", "missing"}).is_nil());
  CHECK(run_command(s.io, c, {"INCR", "n"}) == reply::integer(1));
  CHECK(run_command(s.io, c, {"INCRBY", "n", "41"}) == reply::integer(42));
  const reply wrong = run_command(s.io, c, {"INCR", "greeting"});
  REQUIRE(wrong.is_error());
  CHECK(wrong.text().starts_with("ERR value is not an integer"));
  CHECK(run_command(s.io, c, {"NOSUCHCOMMAND"}).is_error());
  CHECK(run_command(s.io, c, {"RPUSH", "list", "a", "b", "c"}) == reply::integer(3));
  CHECK(run_command(s.io, c, {"LRANGE", "list", "0", "-1"}) ==
        reply::array({reply::bulk("a"), reply::bulk("b"), reply::bulk("c")}));
  CHECK(run_command(s.io, c, {"LRANGE", "nothing", "0", "-1"}) == reply::array({}));

  const reply first = run_command(s.io, c, {"XADD", "room", "*", "text", "one"});
  const reply second = run_command(s.io, c, {"XADD", "room", "*", "text", "two"});
  REQUIRE(first.is_bulk());
  REQUIRE(second.is_bulk());
  const reply newest = run_command(s.io, c, {"XREVRANGE", "room", "+", "-", "COUNT", "2"});
  REQUIRE(newest.is_array());
  REQUIRE(newest.elements().size() == 2);
  CHECK(newest.elements()[0] ==
        reply::array({second, reply::array({reply::bulk("text"), reply::bulk("two")})}));
  CHECK(newest.elements()[1] ==
        reply::array({first, reply::array({reply::bulk("text"), reply::bulk("one")})}));
  CHECK(s.states.taken() == std::vector<bool>{true});
}

TEST_CASE("SELECT on connect: a db of the address is its own") {
  scene s(quick_options(), 3);
  CHECK(run_command(s.io, *s.client, {"SET", "where", "three"}) == reply::status("OK"));
  auto other = chat::redis::client::create(
      s.io.context(), chat::redis::parse_address(s.redis.url()), quick_options());
  other->start();
  REQUIRE(eventually([&] { return other->is_up(); }));
  CHECK(run_command(s.io, *other, {"GET", "where"}).is_nil());
  CHECK(run_command(s.io, *other, {"SELECT", "3"}) == reply::status("OK"));
  CHECK(run_command(s.io, *other, {"GET", "where"}) == reply::bulk("three"));
  other->stop();
}

TEST_CASE("many commands from several threads at once each get their own reply, in order") {
  scene s;
  constexpr int issuers = 4;
  constexpr int per_issuer = 2'000;
  std::vector<std::vector<std::int64_t>> replies(issuers);
  std::atomic<int> failures = 0;
  std::atomic<int> done = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < issuers; ++t) {
    threads.emplace_back([&, t] {
      // Each issuer's replies land on a strand of its own, so their order is the order sent.
      auto strand = asio::make_strand(s.io.context());
      const std::string key = "counter:" + std::to_string(t);
      for (int i = 0; i < per_issuer; ++i) {
        s.client->async_command(
            {"INCR", key},
            asio::bind_executor(strand, [&, t](boost::system::error_code error, reply r) {
              if (error || !r.is_integer()) ++failures;
              replies[t].push_back(r.as_integer());
              ++done;
            }));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  REQUIRE(eventually([&] { return done == issuers * per_issuer; }, 20s));
  CHECK(failures == 0);
  for (int t = 0; t < issuers; ++t) {
    std::vector<std::int64_t> expected(per_issuer);
    for (int i = 0; i < per_issuer; ++i) expected[i] = i + 1;
    CHECK(replies[t] == expected);
  }
}

TEST_CASE("while Redis is down commands fail at once, and the client comes back by itself") {
  scene s;
  CHECK(run_command(s.io, *s.client, {"SET", "k", "v"}) == reply::status("OK"));
  s.redis.stop();
  REQUIRE(eventually([&] { return !s.client->is_up(); }, 2s));
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    CHECK(failure_of(s.io, *s.client, {"GET", "k"}) == errc::not_connected);
    // At once: a wait for the reconnect would last until the restart below.
    // The bound leaves room for a sanitizer build on a loaded machine.
    CHECK(std::chrono::steady_clock::now() - started < 1s);
  }
  s.redis.start();
  REQUIRE(eventually([&] { return s.client->is_up(); }, 3s));
  // Without an append-only file the restart lost the key: this is a new server.
  CHECK(run_command(s.io, *s.client, {"GET", "k"}).is_nil());
  CHECK(s.states.taken() == std::vector<bool>{true, false, true});
}

TEST_CASE("a Redis that stops answering is noticed by the health check within its deadline") {
  scene s;
  const auto options = quick_options();
  s.redis.pause();
  const auto paused = std::chrono::steady_clock::now();
  // Nothing is asked: only the health check's PING can notice.
  const auto bound = options.connection.health_interval + options.connection.reply_timeout;
  REQUIRE(eventually([&] { return !s.client->is_up(); }, bound + 1s));
  const auto noticed = std::chrono::steady_clock::now() - paused;
  CHECK(noticed >= options.connection.reply_timeout);
  CHECK(noticed < bound + 2s);  // slack for a loaded machine, not for another round
  // It keeps trying and fails each time (connect works, the handshake times
  // out), and commands meanwhile fail at once.
  CHECK(failure_of(s.io, *s.client, {"PING"}) == errc::not_connected);
  s.redis.resume();
  REQUIRE(eventually([&] { return s.client->is_up(); }, 3s));
  CHECK(run_command(s.io, *s.client, {"PING"}) == reply::status("PONG"));
}

TEST_CASE("a command sent to a hung Redis fails with reply_timeout") {
  chat::redis::client_options options = quick_options();
  options.connection.health_interval = 10s;  // only the command's own deadline
  scene s(options);
  s.redis.pause();
  const auto started = std::chrono::steady_clock::now();
  CHECK(failure_of(s.io, *s.client, {"GET", "k"}) == errc::reply_timeout);
  const auto waited = std::chrono::steady_clock::now() - started;
  CHECK(waited >= options.connection.reply_timeout - 50ms);
  CHECK(waited < options.connection.reply_timeout + 2s);
  s.redis.resume();
}

TEST_CASE("a client stopped while Redis is down ends its loop") {
  redis_process redis;
  const auto where = chat::redis::parse_address(redis.url());
  redis.stop();
  io_threads io;
  auto c = chat::redis::client::create(io.context(), where, quick_options());
  c->start();
  std::this_thread::sleep_for(100ms);  // a few rounds of connect, fail, back off
  CHECK_FALSE(c->is_up());
  c->stop();
  // io_threads' destructor joins: it returns only if the loop has ended.
}
