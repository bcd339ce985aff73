// Fair use: a token bucket on each client's messages, and caps on
// connections in all and per address.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
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

constexpr double rate = 2;  // tokens per second
constexpr double burst = 3;
constexpr int burst_sent = 10;

chat::server::config rate_limited(double rate_limit, double rate_burst) {
  auto config = test_config();
  config.rate_limit = rate_limit;
  config.rate_burst = rate_burst;
  return config;
}

// How many of a burst the bucket may let through: all its tokens, plus what
// trickled in while the burst was being handled (at most `elapsed`).
int most_accepted(clock_type::duration elapsed) {
  return static_cast<int>(burst +
                          std::floor(rate * std::chrono::duration<double>(elapsed).count()));
}

// The requests of one burst, all in one write.
std::string burst_of(int count, bool json_form, bool direct) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    const std::string text = "burst " + std::to_string(i);
    if (json_form) {
      out += (direct ? json{{"type", "dm"}, {"to", "bob"}, {"text", text}, {"ref", i}}
                     : json{{"type", "msg"}, {"text", text}, {"ref", i}})
                 .dump();
    } else {
      out += direct ? "/msg bob " + text : text;
    }
    out += '\n';
  }
  return out;
}

// Connects until the server takes the connection (the USER prompt) or the
// deadline passes: a slot is freed when the server has finished closing a
// connection, a moment after the client sees it closed.
line_client connect_when_admitted(std::uint16_t port, line_client_options options = {}) {
  const auto deadline = clock_type::now() + default_timeout;
  for (;;) {
    line_client client(port, options);
    const std::string first = client.read_line();
    if (first == "USER") return client;
    if (clock_type::now() > deadline) FAIL("still refused: " << first);
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

TEST_CASE(
    "a burst past the rate limit is answered rate-limited and dropped, and the session goes on",
    "[fair-use]") {
  const bool json_form = GENERATE(true, false);
  const bool direct = GENERATE(false, true);
  INFO((json_form ? "JSON" : "plain") << (direct ? " direct messages" : " room messages"));
  test_server server(rate_limited(rate, burst));
  line_client alice =
      json_form ? join_json(server.port(), "alice") : join_plain(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  json_form ? lines_before_pong(alice) : lines_before_help(alice);

  const auto start = clock_type::now();
  alice.send_raw(burst_of(burst_sent, json_form, direct));
  // One answer per request in JSON, in order: an ack or a refusal. Plain
  // messages get no ack, so there the refusals are all there is.
  std::vector<bool> accepted;
  if (json_form) {
    for (int i = 0; i < burst_sent; ++i) {
      json answer = read_json(alice);
      INFO("answer " << answer.dump());
      if (answer["type"] == "ack") {
        CHECK(answer["ref"] == i);
        accepted.push_back(true);
      } else {
        CHECK(answer["code"] == "rate-limited");
        accepted.push_back(false);
      }
    }
  } else {
    const lines answers = lines_before_help(alice);
    for (const std::string& answer : answers) CHECK(answer.starts_with("! error rate-limited: "));
    accepted.assign(burst_sent - answers.size(), true);
    accepted.resize(burst_sent, false);
  }
  const auto elapsed = clock_type::now() - start;
  const auto accepted_count = std::count(accepted.begin(), accepted.end(), true);
  INFO(accepted_count << " accepted in " << std::chrono::duration<double>(elapsed).count() << " s");
  CHECK(accepted_count >= burst);
  CHECK(accepted_count <= most_accepted(elapsed));
  // A full bucket takes the first ones.
  for (int i = 0; i < burst; ++i) CHECK(accepted[i]);

  // bob got exactly the accepted ones.
  std::vector<std::string> delivered;
  for (json& frame : frames_before_pong(bob)) {
    CHECK(frame["type"] == (direct ? "dm" : "msg"));
    delivered.push_back(frame["text"].get<std::string>());
  }
  CHECK(delivered.size() == static_cast<std::size_t>(accepted_count));
  if (json_form) {
    std::vector<std::string> expected;
    for (int i = 0; i < burst_sent; ++i) {
      if (accepted[i]) expected.push_back("burst " + std::to_string(i));
    }
    CHECK(delivered == expected);
  } else {
    // Plain refusals do not say which message they refuse; the first ones
    // must have got through.
    for (int i = 0; i < burst && i < static_cast<int>(delivered.size()); ++i) {
      CHECK(delivered[i] == "burst " + std::to_string(i));
    }
  }

  // Buckets are per client: bob's is full.
  bob.send_raw(
      frames({R"({"type":"msg","text":"b1","ref":1})", R"({"type":"msg","text":"b2","ref":2})",
              R"({"type":"msg","text":"b3","ref":3})"}));
  for (int i = 1; i <= 3; ++i) CHECK(read_json(bob)["type"] == "ack");
  json_form ? lines_before_pong(alice) : lines_before_help(alice);

  // Still connected, still heard once tokens came back (half a second each).
  const auto deadline = clock_type::now() + default_timeout;
  for (;;) {
    REQUIRE(clock_type::now() < deadline);
    lines_before_pong(bob);
    alice.send_line(json_form ? R"({"type":"msg","text":"later","ref":"later"})" : "later");
    const lines before_probe = json_form ? lines_before_pong(alice) : lines_before_help(alice);
    // JSON: the ack or the refusal; plain: the refusal or nothing.
    if (json_form) REQUIRE(before_probe.size() == 1);
    REQUIRE(before_probe.size() <= 1);
    if (before_probe.empty() || error_code_of(before_probe[0]).empty()) break;
    CHECK(error_code_of(before_probe[0]) == "rate-limited");
    std::this_thread::sleep_for(100ms);
  }
  const auto later = frames_before_pong(bob);
  REQUIRE(later.size() == 1);
  CHECK(later[0]["text"] == "later");
}

TEST_CASE("a rate limit of 0 lets any burst through", "[fair-use]") {
  test_server server(rate_limited(0, 1));
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);
  constexpr int count = 200;
  alice.send_raw(burst_of(count, true, false));
  for (int i = 0; i < count; ++i) {
    json answer = read_json(alice);
    REQUIRE(answer["type"] == "ack");
    REQUIRE(bob.read_line() == "alice: burst " + std::to_string(i));
  }
}

TEST_CASE("past max_clients a connection gets server-full and is closed, until a slot frees",
          "[fair-use]") {
  auto config = test_config();
  config.max_clients = 3;
  test_server server(config);
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);
  // A connection counts from the start, named or not.
  line_client unnamed = server.connect();
  expect_prompt(unnamed);

  for (int i = 0; i < 3; ++i) {
    line_client extra = server.connect();
    const auto words = extra.read_until_eof();
    INFO("refusal " << i);
    REQUIRE(words.size() == 1);  // no USER prompt
    CHECK(words[0].starts_with("! error server-full: "));
  }
  // The refusals cost the others nothing.
  alice.send_line(R"({"type":"msg","text":"still here"})");
  CHECK(bob.read_line() == "alice: still here");

  SECTION("an unnamed connection closing frees its slot") { unnamed.close(); }
  SECTION("a member leaving frees its slot") {
    bob.close();
    CHECK(read_json(alice) == json{{"type", "leave"}, {"room", "lobby"}, {"user", "bob"}});
  }
  line_client taken = connect_when_admitted(server.port());
  taken.send_line("carol");
  CHECK(taken.read_line().starts_with("* welcome carol, "));
  // And the server is full again.
  line_client extra = server.connect();
  CHECK(error_code_of(extra.read_line()) == "server-full");
}

TEST_CASE("past max_per_ip a connection from that address gets too-many-connections",
          "[fair-use]") {
  auto config = test_config();
  config.max_per_ip = 2;
  test_server server(config);
  line_client first = join_json(server.port(), "first");
  line_client second = server.connect();
  expect_prompt(second);

  line_client extra = server.connect();
  const auto words = extra.read_until_eof();
  REQUIRE(words.size() == 1);
  CHECK(words[0].starts_with("! error too-many-connections: "));

  // Another address has its own count.
  line_client other = join_plain(server.port(), "other", {.source_address = "127.0.0.2"});
  line_client other_too = server.connect({.source_address = "127.0.0.2"});
  expect_prompt(other_too);
  line_client other_extra = server.connect({.source_address = "127.0.0.2"});
  CHECK(error_code_of(other_extra.read_line()) == "too-many-connections");

  second.close();
  line_client again = connect_when_admitted(server.port());
  again.send_line(R"({"type":"hello","user":"again"})");
  CHECK(read_json(again)["type"] == "welcome");
}

TEST_CASE("a connection past both caps is told server-full", "[fair-use]") {
  auto config = test_config();
  config.max_clients = 1;
  config.max_per_ip = 1;
  test_server server(config);
  line_client alice = join_json(server.port(), "alice");
  line_client extra = server.connect();
  CHECK(error_code_of(extra.read_line()) == "server-full");
}

TEST_CASE("max_per_ip 0 sets no limit per address", "[fair-use]") {
  auto config = test_config();
  config.max_per_ip = 0;
  config.max_clients = 100;
  test_server server(config);
  std::vector<line_client> clients;
  for (int i = 0; i < 60; ++i) {
    clients.push_back(server.connect());
    expect_prompt(clients.back());
  }
}

TEST_CASE("the server stops cleanly while refusing a stream of connections", "[fair-use]") {
  auto config = test_config();
  config.max_clients = 1;
  test_server server(config);
  line_client alice = join_json(server.port(), "alice");

  // Refusals come one after another while the server is told to stop: the
  // listener is between two accepts when stop() closes it.
  std::atomic<bool> stopping{false};
  std::atomic<int> refused{0};
  std::thread knocker([&] {
    while (!stopping) {
      try {
        line_client extra(server.port());
        if (error_code_of(extra.read_line()) == "server-full") ++refused;
      } catch (const std::exception&) {
        // Refused at the door once the server is closing: expected.
      }
    }
  });
  const auto deadline = clock_type::now() + default_timeout;
  while (refused < 20 && clock_type::now() < deadline) std::this_thread::yield();
  const bool refusing = refused >= 20;
  if (refusing) server.stop();
  stopping = true;
  knocker.join();
  REQUIRE(refusing);
  CHECK(alice.read_until_eof() ==
        std::vector<std::string>{R"({"type":"shutdown","reconnect":true})"});
}
