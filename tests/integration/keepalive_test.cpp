// Keepalive: JSON clients silent for ping_interval are pinged and dropped if
// they stay silent; any client silent for idle_timeout is dropped. Short
// intervals keep the test fast; the checks on time are lower bounds only,
// since a loaded machine may always be late but the server must never be early.

#include <poll.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;
using lines = std::vector<std::string>;

constexpr auto ping_interval = 300ms;
constexpr auto idle_timeout = 300ms;

chat::server::config pinging() {
  auto config = test_config();
  config.ping_interval = ping_interval;
  config.idle_timeout = std::chrono::milliseconds(0);
  return config;
}

chat::server::config idling() {
  auto config = test_config();
  config.ping_interval = std::chrono::milliseconds(0);
  config.idle_timeout = idle_timeout;
  return config;
}

const json ping = {{"type", "ping"}};

}  // namespace

TEST_CASE("a silent JSON client is pinged, and answering with pong keeps it", "[keepalive]") {
  test_server server(pinging());
  // Plain clients are never pinged: this one stays silent all along.
  line_client carol = join_plain(server.port(), "carol");

  const auto logged_in = clock_type::now();
  line_client alice = join_json(server.port(), "alice");
  CHECK(read_json(alice) == ping);
  CHECK(clock_type::now() - logged_in >= ping_interval);

  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    const auto answered = clock_type::now();
    alice.send_line(R"({"type":"pong"})");
    // Silent again after the pong: pinged again, not dropped.
    CHECK(read_json(alice) == ping);
    CHECK(clock_type::now() - answered >= ping_interval);
  }
  // Any frame counts as life, not only pong.
  alice.send_line(R"({"type":"who"})");
  CHECK(read_json(alice)["type"] == "users");
  CHECK(read_json(alice) == ping);
  alice.send_line(R"({"type":"pong"})");

  CHECK(frames_before_pong(alice).empty());
  // Nearly a second of silence, and carol was neither pinged nor dropped.
  CHECK(lines_before_help(carol) == lines{"* alice joined lobby"});
}

TEST_CASE("a JSON client that does not answer the ping gets error timeout and is closed",
          "[keepalive]") {
  test_server server(pinging());
  line_client carol = join_plain(server.port(), "carol");
  const auto logged_in = clock_type::now();
  line_client alice = join_json(server.port(), "alice");
  CHECK(carol.read_line() == "* alice joined lobby");

  const auto last_words = alice.read_until_eof();
  CHECK(clock_type::now() - logged_in >= 2 * ping_interval);
  REQUIRE(last_words.size() == 2);
  CHECK(json::parse(last_words[0]) == ping);
  json error = json::parse(last_words[1]);
  CHECK(error["type"] == "error");
  CHECK(error["code"] == "timeout");
  CHECK(error["message"].is_string());

  // The others see it leave, and its name is free again.
  CHECK(carol.read_line() == "* alice left lobby");
  line_client again = join_json(server.port(), "alice");
  CHECK(carol.read_line() == "* alice joined lobby");
}

TEST_CASE("a client silent for idle_timeout gets error timeout and is closed, plain too",
          "[keepalive]") {
  test_server server(idling());
  // The watcher talks all the time, so it stays.
  line_client watcher = join_json(server.port(), "watcher");
  const auto logged_in = clock_type::now();
  line_client dave = join_plain(server.port(), "dave");
  line_client alice = join_json(server.port(), "alice");

  std::vector<json> seen;
  auto left = [&](const std::string& name) {
    return std::find(seen.begin(), seen.end(),
                     json{{"type", "leave"}, {"room", "lobby"}, {"user", name}}) != seen.end();
  };
  const auto deadline = clock_type::now() + default_timeout;
  while (!(left("dave") && left("alice"))) {
    REQUIRE(clock_type::now() < deadline);
    for (json& frame : frames_before_pong(watcher)) seen.push_back(std::move(frame));
    // A pace for the watcher's chatter, not a wait for an event.
    std::this_thread::sleep_for(50ms);
  }

  // dave saw alice come in, then was dropped; their deadlines are a few
  // milliseconds apart, so he may have seen her go first.
  const auto dave_words = dave.read_until_eof();
  REQUIRE(dave_words.size() >= 2);
  REQUIRE(dave_words.size() <= 3);
  CHECK(dave_words.front() == "* alice joined lobby");
  if (dave_words.size() == 3) CHECK(dave_words[1] == "* alice left lobby");
  CHECK(dave_words.back().starts_with("! error timeout: "));
  // alice may have seen dave go first.
  const auto alice_words = alice.read_until_eof();
  REQUIRE_FALSE(alice_words.empty());
  CHECK(alice_words.size() <= 2);
  if (alice_words.size() == 2) {
    CHECK(json::parse(alice_words[0]) ==
          json{{"type", "leave"}, {"room", "lobby"}, {"user", "dave"}});
  }
  CHECK(error_code_of(alice_words.back()) == "timeout");
  CHECK(json::parse(alice_words.back())["type"] == "error");
  CHECK(clock_type::now() - logged_in >= idle_timeout);
  // No ping with pings off.
  CHECK(std::find(seen.begin(), seen.end(), ping) == seen.end());
}

TEST_CASE("anything a client sends restarts its idle clock, even an empty line", "[keepalive]") {
  test_server server(idling());
  line_client dave = join_plain(server.port(), "dave");
  const auto start = clock_type::now();
  // Three idle timeouts' worth of time, never silent for a third of one.
  for (int i = 0; clock_type::now() - start < 3 * idle_timeout; ++i) {
    if (i % 2 == 0) {
      dave.send_line("");  // what the protocol suggests to a quiet plain client
    } else {
      CHECK(lines_before_help(dave).empty());
    }
    std::this_thread::sleep_for(idle_timeout / 6);
  }
  dave.send_line("/who");
  CHECK(dave.read_line() == "* users in lobby: dave");
}

TEST_CASE("before the handshake only the handshake timeout applies", "[keepalive]") {
  auto config = test_config();
  config.ping_interval = 100ms;
  config.idle_timeout = 100ms;
  test_server server(config);
  line_client newcomer = server.connect();
  expect_prompt(newcomer);
  // Several idle timeouts of silence: nothing comes, the connection stays.
  pollfd entry{newcomer.fd(), POLLIN, 0};
  CHECK(::poll(&entry, 1, 500) == 0);
  newcomer.send_line("newcomer");
  CHECK(newcomer.read_line().starts_with("* welcome newcomer, "));
}

TEST_CASE("an empty line answers a ping as well as a pong", "[keepalive]") {
  test_server server(pinging());
  line_client alice = join_json(server.port(), "alice");
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    CHECK(read_json(alice) == ping);
    alice.send_raw("\r\n");
  }
  CHECK(read_json(alice) == ping);
  alice.send_line(R"({"type":"who"})");
  CHECK(read_json(alice)["type"] == "users");
}
