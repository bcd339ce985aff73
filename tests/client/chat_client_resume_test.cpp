// chat-client coming back after a lost connection, against the real server:
// the messages sent while it was away are shown once each when it is back,
// across pages, with a gap where the server no longer has them, and across
// a restart of a server that keeps its history on disk.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "data_dir.hpp"
#include "support/chat_client_run.hpp"
#include "support/cut_proxy.hpp"
#include "test_server.hpp"

namespace {

using chat::test::join_json;
using chat::test::json;
using chat::test::next_line;
using chat::test::read_json;
using chat::test::require_exit;
using chat::test::say_numbered;
using chat::test::start_client;

// Has `member` (a JSON session) join `room` and reads the reply and the
// history that comes with it.
void join_room(chat::test::line_client& member, const std::string& room) {
  member.send_line(json{{"type", "join"}, {"room", room}}.dump());
  REQUIRE(read_json(member)["type"] == "joined");
  chat::test::lines_before_pong(member);
}

// The client's lines up to and including the first that ends with `last`,
// without the reconnect notices that depend on timing.
std::vector<std::string> lines_until(chat::test::piped_process& client, const std::string& last) {
  std::vector<std::string> lines;
  for (;;) {
    std::string line = next_line(client);
    if (line.starts_with("* reconnect failed")) continue;
    const bool done = line.ends_with(last);
    lines.push_back(std::move(line));
    if (done) return lines;
  }
}

// How many of `lines` show a message of bob's with `text`.
int shown(const std::vector<std::string>& lines, const std::string& text) {
  int count = 0;
  for (const auto& line : lines) {
    if (line.ends_with("bob: " + text)) ++count;
  }
  return count;
}

// Cuts alice's connection through `proxy` and keeps her away until
// `proxy.refuse(false)`; returns once the server has seen her go.
void cut_off(chat::test::cut_proxy& proxy, chat::test::piped_process& alice,
             chat::test::line_client& bob, int rooms = 1) {
  proxy.refuse(true);
  proxy.cut();
  CHECK_THAT(next_line(alice),
             Catch::StartsWith("* connection lost (") && Catch::Contains("reconnecting in"));
  for (int i = 0; i < rooms; ++i) {
    const json left = read_json(bob);
    CHECK(left["type"] == "leave");
    CHECK(left["user"] == "alice");
  }
}

// Like say_numbered, but other frames may come between the acks (alice
// coming back, with a join announcement).
void say_amid_others(chat::test::line_client& sender, int count, const std::string& prefix) {
  for (int i = 0; i < count; ++i) {
    sender.send_line(
        json{{"type", "msg"}, {"text", prefix + std::to_string(i)}, {"ref", i}}.dump());
  }
  for (int acked = 0; acked < count;) {
    if (read_json(sender)["type"] == "ack") ++acked;
  }
}

// Skips lines up to the first that starts with `prefix`, and returns it.
std::string line_starting(chat::test::piped_process& client, const std::string& prefix) {
  for (;;) {
    std::string line = next_line(client);
    if (line.starts_with(prefix)) return line;
  }
}

chat::server::config with_history(std::size_t history) {
  auto config = chat::test::test_config();
  config.history = history;
  return config;
}

}  // namespace

TEST_CASE("chat-client shows every message it missed while away, once, in every room",
          "[chat-client][server][reconnect]") {
  chat::test::test_server server(with_history(1000));
  chat::test::cut_proxy proxy(server.port());
  auto bob = join_json(server.port(), "bob");
  auto alice = start_client(proxy.port(), {"--user", "alice"});
  CHECK_THAT(next_line(alice), Catch::StartsWith("* welcome alice"));
  CHECK(read_json(bob)["type"] == "join");
  alice.write_stdin("/join dev\n");
  CHECK(next_line(alice) == "* you joined dev with: alice");
  join_room(bob, "dev");
  CHECK(next_line(alice) == "* bob joined dev");
  say_numbered(bob, 2, "before");
  lines_until(alice, "bob: before1");

  cut_off(proxy, alice, bob, /*rooms=*/2);
  // More than a page (200) in dev, a few in the lobby.
  say_numbered(bob, 450, "dev");
  bob.send_line(R"({"type":"msg","room":"lobby","text":"lobby0","ref":"a"})");
  bob.send_line(R"({"type":"msg","room":"lobby","text":"lobby1","ref":"b"})");
  CHECK(read_json(bob)["type"] == "ack");
  CHECK(read_json(bob)["type"] == "ack");
  proxy.refuse(false);

  std::vector<std::string> lines = lines_until(alice, "bob: dev449");
  CHECK(lines.front() == "* reconnected");
  for (int i = 0; i < 450; ++i) {
    INFO(i);
    REQUIRE(shown(lines, "dev" + std::to_string(i)) == 1);
  }
  // Oldest first.
  std::vector<std::string> replayed;
  for (const auto& line : lines) {
    if (line.find("bob: dev") != std::string::npos) replayed.push_back(line);
  }
  REQUIRE(replayed.size() == 450);
  CHECK(replayed.front().ends_with("bob: dev0"));
  CHECK(replayed.front().starts_with("[history] "));
  // The lobby's replay comes with the login, before dev's.
  CHECK(shown(lines, "lobby0") == 1);
  CHECK(shown(lines, "lobby1") == 1);
  CHECK(shown(lines, "before0") == 0);

  // Back in both rooms, dev current: live messages flow, unmarked from dev.
  CHECK(read_json(bob) == json{{"type", "join"}, {"room", "lobby"}, {"user", "alice"}});
  CHECK(read_json(bob) == json{{"type", "join"}, {"room", "dev"}, {"user", "alice"}});
  alice.write_stdin("back in dev\n");
  const json back = read_json(bob);
  CHECK(back["room"] == "dev");
  CHECK(back["text"] == "back in dev");
  say_numbered(bob, 1, "live");
  CHECK_THAT(next_line(alice), Catch::Matches(R"(\[\d\d:\d\d\] bob: live0)"));
  alice.close_stdin();
  require_exit(alice, 0);
}

TEST_CASE("chat-client says which messages the server no longer had",
          "[chat-client][server][reconnect]") {
  // A memory-only server keeping 100 messages a room.
  chat::test::test_server server(with_history(100));
  chat::test::cut_proxy proxy(server.port());
  auto bob = join_json(server.port(), "bob");
  auto alice = start_client(proxy.port(), {"--user", "alice"});
  CHECK_THAT(next_line(alice), Catch::StartsWith("* welcome alice"));
  CHECK(read_json(bob)["type"] == "join");
  const auto before = say_numbered(bob, 1, "before");
  lines_until(alice, "bob: before0");

  cut_off(proxy, alice, bob);
  const auto missed = say_numbered(bob, 150, "m");
  proxy.refuse(false);
  const auto lines = lines_until(alice, "bob: m149");
  // 50 fell out of the ring: said once, then the 100 it still has.
  const std::string gap = "* messages in lobby after " + std::to_string(before[0]) + " up to " +
                          std::to_string(missed[49]) + " may be missing";
  CHECK(std::count(lines.begin(), lines.end(), gap) == 1);
  for (int i = 0; i < 50; ++i) CHECK(shown(lines, "m" + std::to_string(i)) == 0);
  for (int i = 50; i < 150; ++i) CHECK(shown(lines, "m" + std::to_string(i)) == 1);
  alice.write_stdin("/quit\n");
  require_exit(alice, 0);
}

TEST_CASE("chat-client comes back after a server restart and misses nothing kept on disk",
          "[chat-client][server][reconnect]") {
  chat::test::data_dir dir;
  auto config = chat::test::test_config();
  config.data_dir = dir.string();
  std::uint16_t port = 0;
  std::optional<chat::test::test_server> server(std::in_place, config);
  port = server->port();
  std::optional<chat::test::line_client> bob(join_json(port, "bob"));
  auto alice = start_client(port, {"--user", "alice"});
  CHECK_THAT(next_line(alice), Catch::StartsWith("* welcome alice"));
  CHECK(read_json(*bob)["type"] == "join");
  say_numbered(*bob, 3, "first");
  lines_until(alice, "bob: first2");

  bob.reset();
  server->stop();
  line_starting(alice, "* server is shutting down");
  CHECK(next_line(alice).starts_with("* connection lost (the server shut down); reconnecting in"));
  config.port = port;
  server.emplace(config);
  bob.emplace(join_json(port, "bob"));
  // Alice may be back before or after these: either way each shows once.
  say_amid_others(*bob, 5, "second");
  const auto lines = lines_until(alice, "bob: second4");
  for (int i = 0; i < 5; ++i) CHECK(shown(lines, "second" + std::to_string(i)) == 1);
  for (int i = 0; i < 3; ++i) CHECK(shown(lines, "first" + std::to_string(i)) == 0);
  CHECK(std::count(lines.begin(), lines.end(), "* reconnected") == 1);
  alice.close_stdin();
  require_exit(alice, 0);
}

TEST_CASE("chat-client /resume ROOM ID shows what a room kept after an id",
          "[chat-client][server][reconnect]") {
  chat::test::test_server server(with_history(1000));
  auto bob = join_json(server.port(), "bob");
  join_room(bob, "dev");
  const auto ids = say_numbered(bob, 4, "d");
  auto alice = start_client(server.port(), {"--user", "alice"});
  CHECK_THAT(next_line(alice), Catch::StartsWith("* welcome alice"));
  alice.write_stdin("/resume dev " + std::to_string(ids[1]) + "\nnow in dev\n");
  const auto lines = lines_until(alice, "bob: d3");
  CHECK(lines.front() == "* you joined dev with: alice, bob");
  CHECK(shown(lines, "d0") + shown(lines, "d1") == 0);
  CHECK(shown(lines, "d2") == 1);
  CHECK_THAT(lines.back(), Catch::StartsWith("[history] "));
  // The resume made dev current, and the line after it waited for that.
  CHECK(read_json(bob) == json{{"type", "join"}, {"room", "lobby"}, {"user", "alice"}});
  CHECK(read_json(bob) == json{{"type", "join"}, {"room", "dev"}, {"user", "alice"}});
  const json typed = read_json(bob);
  CHECK(typed["room"] == "dev");
  CHECK(typed["text"] == "now in dev");
  alice.close_stdin();
  require_exit(alice, 0);
}
