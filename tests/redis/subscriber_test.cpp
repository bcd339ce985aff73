#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io_threads.hpp"
#include "redis/client.hpp"
#include "redis/subscriber.hpp"
#include "redis_process.hpp"

using chat::redis::reply;
using chat::test::eventually;
using chat::test::io_threads;
using chat::test::redis_process;
using chat::test::run_command;
using namespace std::chrono_literals;

namespace {

template <typename Options>
Options quick(Options options) {
  options.connection.connect_timeout = 500ms;
  options.connection.health_interval = 200ms;
  options.connection.reply_timeout = 400ms;
  options.reconnect.initial_backoff = 20ms;
  options.reconnect.max_backoff = 200ms;
  return options;
}

// What the subscriber was handed, and its ups and downs.
struct inbox {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> messages;
  std::vector<bool> states;

  bool has(std::string_view channel, std::string_view payload) {
    std::lock_guard lock(mutex);
    for (const auto& [c, p] : messages) {
      if (c == channel && p == payload) return true;
    }
    return false;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
  std::vector<bool> taken_states() {
    std::lock_guard lock(mutex);
    return states;
  }
};

struct scene {
  redis_process redis;
  // Before io: the last handler calls may come while io's threads are joined.
  inbox in;
  io_threads io;
  std::shared_ptr<chat::redis::client> publisher;
  std::shared_ptr<chat::redis::subscriber> sub;

  explicit scene(std::size_t max_payload = std::size_t{1} << 20) {
    const auto where = chat::redis::parse_address(redis.url());
    publisher =
        chat::redis::client::create(io.context(), where, quick(chat::redis::client_options{}));
    publisher->start();
    auto options = quick(chat::redis::subscriber_options{});
    options.max_payload = max_payload;
    sub = chat::redis::subscriber::create(
        io.context(), where, options,
        [this](std::string_view channel, std::string_view payload) {
          std::lock_guard lock(in.mutex);
          in.messages.emplace_back(channel, payload);
        },
        [this](bool up) {
          std::lock_guard lock(in.mutex);
          in.states.push_back(up);
        });
    sub->subscribe("room:a");
    sub->subscribe("room:b");
    sub->start();
    REQUIRE(eventually([&] { return publisher->is_up() && sub->is_up(); }));
  }
  ~scene() {
    sub->stop();
    publisher->stop();
  }

  // PUBLISH, and the number of subscribers Redis says it reached.
  std::int64_t publish(const std::string& channel, const std::string& payload) {
    return run_command(io, *publisher, {"PUBLISH", channel, payload}).as_integer();
  }
};

}  // namespace

TEST_CASE("the subscriber gets what is published on its channels, and only those") {
  scene s;
  CHECK(s.publish("room:a", "hello a") == 1);
  CHECK(s.publish("room:b", std::string("binary\0\r\n", 9)) == 1);
  CHECK(s.publish("room:c", "nobody listens") == 0);
  REQUIRE(eventually([&] { return s.in.count() == 2; }));
  CHECK(s.in.has("room:a", "hello a"));
  CHECK(s.in.has("room:b", std::string("binary\0\r\n", 9)));

  s.sub->unsubscribe("room:b");
  s.sub->subscribe("room:c");
  REQUIRE(eventually([&] { return s.publish("room:c", "now heard") == 1; }));
  REQUIRE(eventually([&] { return s.in.has("room:c", "now heard"); }));
  CHECK(s.publish("room:b", "after unsubscribe") == 0);
}

TEST_CASE("after Redis restarts the subscriber resubscribes and hears again") {
  scene s;
  CHECK(s.publish("room:a", "before") == 1);
  REQUIRE(eventually([&] { return s.in.has("room:a", "before"); }));
  s.redis.restart();
  REQUIRE(eventually([&] { return s.in.taken_states().size() >= 3; }, 5s));
  CHECK(s.in.taken_states() == std::vector<bool>{true, false, true});
  REQUIRE(eventually([&] { return s.publisher->is_up(); }, 5s));
  CHECK(s.publish("room:a", "after a") == 1);
  CHECK(s.publish("room:b", "after b") == 1);
  REQUIRE(
      eventually([&] { return s.in.has("room:a", "after a") && s.in.has("room:b", "after b"); }));
}

TEST_CASE("a payload over the limit is dropped and counted, and the next one arrives") {
  scene s(1'000);
  CHECK(s.publish("room:a", std::string(1'001, 'x')) == 1);
  CHECK(s.publish("room:a", std::string(1'000, 'y')) == 1);
  REQUIRE(eventually([&] { return s.in.count() == 1; }));
  CHECK(s.in.has("room:a", std::string(1'000, 'y')));
  CHECK(s.sub->dropped() == 1);
  // Far past the parser's bound: the connection goes, nothing that large is
  // held, and the subscriber comes back subscribed.
  CHECK(s.publish("room:a", std::string(100'000, 'z')) == 1);
  REQUIRE(eventually([&] { return s.in.taken_states().size() >= 3; }));
  REQUIRE(eventually([&] { return s.publish("room:b", "still here") == 1; }));
  REQUIRE(eventually([&] { return s.in.has("room:b", "still here"); }));
}
