// chat-client's commands beyond the lobby (rooms, direct messages, names,
// topics, history) and its answers to the server's keepalive: the real
// binary against the real server, with JSON and plain test sessions as the
// other users.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "support/chat_client_run.hpp"
#include "test_server.hpp"

namespace {

using chat::test::join_json;
using chat::test::json;
using chat::test::next_envelope;
using chat::test::next_line;
using chat::test::read_json;
using chat::test::require_exit;
using chat::test::start_client;
using namespace std::chrono_literals;

// A live message as the client shows it: "[HH:MM] " then `rest`.
auto live(const std::string& rest) {
  return Catch::Matches(R"(\[\d\d:\d\d\] )" + std::string(rest));
}

auto past(const std::string& rest) {
  return Catch::Matches(R"(\[history\] \[\d\d:\d\d\] )" + std::string(rest));
}

json membership(const char* type, const char* room, const char* user) {
  return json{{"type", type}, {"room", room}, {"user", user}};
}

// Has `member` (a JSON session) join `room` and reads the reply.
void join_room(chat::test::line_client& member, const std::string& room) {
  member.send_line(json{{"type", "join"}, {"room", room}}.dump());
  const json joined = read_json(member);
  REQUIRE(joined["type"] == "joined");
  REQUIRE(joined["room"] == room);
}

json message_from(const char* room, const char* from, const char* text) {
  return json{{"type", "msg"}, {"room", room}, {"from", from}, {"text", text}};
}

// A msg envelope without what changes every time (id, ts).
json without_stamps(json message) {
  message.erase("id");
  message.erase("ts");
  return message;
}

}  // namespace

TEST_CASE("chat-client sends to its current room, which follows joins and leaves",
          "[chat-client][server][rooms]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");
  join_room(bob, "dev");
  auto client = start_client(server.port(), {"--user", "alice"});
  CHECK(next_line(client) ==
        "* welcome alice, you are in lobby with: alice, bob (/help lists commands)");
  CHECK(read_json(bob) == membership("join", "lobby", "alice"));

  // All in one write: each line after a /join or /leave must still go to
  // the room that the command made current.
  client.write_stdin("/join dev\nin dev\n/join ops\n/leave\nback in dev\n");
  CHECK(next_line(client) == "* you joined dev with: alice, bob");
  CHECK(next_line(client) == "* you joined ops with: alice");
  CHECK(next_line(client) == "* you left ops; your current room is dev");
  CHECK(read_json(bob) == membership("join", "dev", "alice"));
  CHECK(without_stamps(read_json(bob)) == message_from("dev", "alice", "in dev"));
  CHECK(without_stamps(read_json(bob)) == message_from("dev", "alice", "back in dev"));

  // Lines from the current room go unmarked, those from others name theirs.
  bob.send_line(R"({"type":"msg","room":"lobby","text":"over here"})");
  CHECK_THAT(next_line(client), live(R"(\[#lobby\] bob: over here)"));
  bob.send_line(R"({"type":"msg","room":"dev","text":"and here"})");
  CHECK_THAT(next_line(client), live("bob: and here"));

  client.write_stdin("/who\n/leave\nto the lobby\n/who\n");
  CHECK(next_line(client) == "* users in dev: alice, bob");
  CHECK(next_line(client) == "* you left dev; your current room is lobby");
  CHECK(next_line(client) == "* users in lobby: alice, bob");
  CHECK(read_json(bob) == membership("leave", "dev", "alice"));
  CHECK(without_stamps(read_json(bob)) == message_from("lobby", "alice", "to the lobby"));

  client.write_stdin("/leave\nanyone?\n/leave nowhere\n/join lobby\nback\n");
  CHECK(next_line(client) == "* you left lobby; you are in no room now (/join one)");
  CHECK(next_line(client) == "! error not-in-room: you are in no room: /join one first");
  CHECK(next_line(client) == "! error not-in-room: you are not in nowhere");
  CHECK(next_line(client) == "* you joined lobby with: alice, bob");
  // Back in a room, its history again.
  CHECK_THAT(next_line(client), past("bob: over here"));
  CHECK_THAT(next_line(client), past("alice: to the lobby"));
  CHECK(read_json(bob) == membership("leave", "lobby", "alice"));
  CHECK(read_json(bob) == membership("join", "lobby", "alice"));
  CHECK(without_stamps(read_json(bob)) == message_from("lobby", "alice", "back"));

  client.write_stdin("/rooms\n");
  CHECK(next_line(client) == "* rooms: dev (1), lobby (2)");
  client.close_stdin();
  require_exit(client, 0);
}

TEST_CASE("chat-client sends and shows direct messages", "[chat-client][server][dm]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");
  auto client = start_client(server.port(), {"--user", "alice"});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
  CHECK(read_json(bob) == membership("join", "lobby", "alice"));

  bob.send_line(R"({"type":"dm","to":"alice","text":"psst"})");
  CHECK_THAT(next_line(client), live(R"(\[dm\] bob: psst)"));

  client.write_stdin("/msg bob  just  you\n/msg nobody hello?\n");
  const json direct = read_json(bob);
  CHECK(direct["type"] == "dm");
  CHECK(direct["from"] == "alice");
  CHECK(direct["to"] == "bob");
  CHECK(direct["text"] == "just  you");
  CHECK(next_line(client) == "! error no-such-user: no one is called nobody");

  client.write_stdin("/msg bob\n");
  CHECK_THAT(next_line(client), Catch::StartsWith("! usage: /msg NAME TEXT"));
  client.close_stdin();
  require_exit(client, 0);
}

TEST_CASE("chat-client changes its name and shows others' changes", "[chat-client][server][nick]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");
  auto client = start_client(server.port(), {"--user", "alice"});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
  CHECK(read_json(bob) == membership("join", "lobby", "alice"));

  client.write_stdin("/nick al\n");
  CHECK(next_line(client) == "* alice is now known as al");
  CHECK(read_json(bob) == json{{"type", "nick"}, {"old", "alice"}, {"new", "al"}});

  bob.send_line(R"({"type":"nick","user":"robert"})");
  CHECK(read_json(bob) == json{{"type", "nick"}, {"old", "bob"}, {"new", "robert"}});
  CHECK(next_line(client) == "* bob is now known as robert");

  client.write_stdin("/nick ROBERT\n/nick not/valid\nstill al\n");
  CHECK_THAT(next_line(client), Catch::StartsWith("! error name-taken:"));
  CHECK_THAT(next_line(client), Catch::StartsWith("! error bad-name:"));
  const json message = read_json(bob);
  CHECK(message["from"] == "al");
  CHECK(message["text"] == "still al");
  client.close_stdin();
  require_exit(client, 0);
}

TEST_CASE("chat-client sets, asks for and shows topics", "[chat-client][server][topic]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");
  join_room(bob, "dev");
  bob.send_line(R"({"type":"topic","room":"dev","text":"all about dev"})");
  CHECK(read_json(bob) ==
        json{{"type", "topic"}, {"room", "dev"}, {"text", "all about dev"}, {"by", "bob"}});

  auto client = start_client(server.port(), {"--user", "alice"});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
  CHECK(read_json(bob) == membership("join", "lobby", "alice"));

  client.write_stdin("/topic\n/topic be nice\n/topic\n");
  CHECK(next_line(client) == "* topic of lobby: (none)");
  CHECK(next_line(client) == "* alice set the topic of lobby: be nice");
  CHECK(next_line(client) == "* topic of lobby: be nice");
  CHECK(read_json(bob) ==
        json{{"type", "topic"}, {"room", "lobby"}, {"text", "be nice"}, {"by", "alice"}});

  client.write_stdin("/join dev\n/rooms\n");
  CHECK(next_line(client) == "* you joined dev with: alice, bob; topic: all about dev");
  CHECK(next_line(client) == "* rooms: dev (2; topic: all about dev), lobby (2; topic: be nice)");
  CHECK(read_json(bob) == membership("join", "dev", "alice"));

  bob.send_line(R"({"type":"topic","room":"dev","text":""})");
  CHECK(next_line(client) == "* bob cleared the topic of dev");
  client.close_stdin();
  require_exit(client, 0);
}

TEST_CASE("chat-client shows history apart from live messages", "[chat-client][server][history]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");
  bob.send_line(R"({"type":"msg","text":"before you came"})");
  join_room(bob, "dev");
  bob.send_line(R"({"type":"msg","room":"dev","text":"one"})");
  bob.send_line(R"({"type":"msg","room":"dev","text":"two"})");

  auto client = start_client(server.port(), {"--user", "alice"});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
  CHECK_THAT(next_line(client), past("bob: before you came"));
  CHECK(read_json(bob) == membership("join", "lobby", "alice"));

  client.write_stdin("/join dev\n");
  CHECK(next_line(client) == "* you joined dev with: alice, bob");
  CHECK_THAT(next_line(client), past("bob: one"));
  CHECK_THAT(next_line(client), past("bob: two"));
  CHECK(read_json(bob) == membership("join", "dev", "alice"));
  bob.send_line(R"({"type":"msg","room":"dev","text":"three"})");
  CHECK_THAT(next_line(client), live("bob: three"));

  client.write_stdin("/history 2\n/history\n");
  CHECK(next_line(client) == "* history of dev: 2 messages");
  CHECK_THAT(next_line(client), past("bob: two"));
  CHECK_THAT(next_line(client), past("bob: three"));
  CHECK(next_line(client) == "* history of dev: 3 messages");
  CHECK_THAT(next_line(client), past("bob: one"));
  CHECK_THAT(next_line(client), past("bob: two"));
  CHECK_THAT(next_line(client), past("bob: three"));

  // A page of another room than the current one names it.
  client.write_stdin("/join ops\n/history\n/leave\n/history 1\n");
  CHECK(next_line(client) == "* you joined ops with: alice");
  CHECK(next_line(client) == "* history of ops: no messages");
  CHECK(next_line(client) == "* you left ops; your current room is dev");
  CHECK(next_line(client) == "* history of dev: 1 message");
  CHECK_THAT(next_line(client), past("bob: three"));
  client.close_stdin();
  require_exit(client, 0);
}

TEST_CASE("chat-client shows the server's refusals", "[chat-client][server]") {
  auto config = chat::test::test_config();
  // One message, then none for a very long time.
  config.rate_limit = 0.001;
  config.rate_burst = 1;
  chat::test::test_server server(config);
  auto bob = join_json(server.port(), "bob");
  auto client = start_client(server.port(), {"--user", "alice"});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
  CHECK(read_json(bob) == membership("join", "lobby", "alice"));

  client.write_stdin("first\nsecond\n/msg bob third\n/who nowhere\n/join bad/name\n");
  CHECK(next_line(client) == "! error rate-limited: too many messages: this one was dropped");
  CHECK(next_line(client) == "! error rate-limited: too many messages: this one was dropped");
  CHECK(next_line(client) == "! error not-in-room: you are not in nowhere");
  CHECK_THAT(next_line(client), Catch::StartsWith("! error bad-request: room names are"));
  CHECK(read_json(bob)["text"] == "first");
  client.close_stdin();
  require_exit(client, 0);
  // Nothing else got through before alice left.
  CHECK(read_json(bob) == membership("leave", "lobby", "alice"));
}

TEST_CASE("chat-client answers the server's pings, in both modes, without showing them",
          "[chat-client][server][keepalive]") {
  auto config = chat::test::test_config();
  constexpr auto interval = 300ms;
  config.ping_interval = interval;
  chat::test::test_server server(config);
  // Plain sessions are never pinged: bob stays to see who leaves.
  auto bob = chat::test::join_plain(server.port(), "bob");

  auto client = start_client(server.port(), {"--user", "alice"});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
  const auto idle_since = std::chrono::steady_clock::now();
  auto script = start_client(server.port(), {"--user", "bot", "--json"});
  CHECK(next_envelope(script)["type"] == "welcome");
  CHECK(bob.read_line() == "* alice joined lobby");
  CHECK(bob.read_line() == "* bot joined lobby");
  CHECK(next_line(client) == "* bot joined lobby");

  // The control: a JSON session that does not answer is pinged, then dropped.
  auto silent = join_json(server.port(), "silent");
  CHECK(read_json(silent) == json{{"type", "ping"}});
  CHECK(read_json(silent)["code"] == "timeout");
  CHECK(silent.read_until_eof().empty());
  for (const char* line : {"* silent joined lobby", "* silent left lobby"}) {
    CHECK(bob.read_line() == line);
    CHECK(next_line(client) == line);
  }
  CHECK(next_envelope(script) == membership("join", "lobby", "silent"));
  CHECK(next_envelope(script) == membership("leave", "lobby", "silent"));

  // Both clients stay silent but for their pongs well past the two
  // intervals that dropped `silent`, and show nothing meanwhile.
  while (std::chrono::steady_clock::now() - idle_since < 4 * interval) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        4 * interval - (std::chrono::steady_clock::now() - idle_since));
    const auto line = client.read_stdout_line(std::max(left, 1ms));
    CHECK_FALSE(line);
  }
  CHECK_FALSE(script.read_stdout_line(1ms));

  client.write_stdin("still here\n");
  CHECK(bob.read_line() == "alice: still here");  // and not "* alice left lobby"
  CHECK(without_stamps(next_envelope(script)) == message_from("lobby", "alice", "still here"));
  script.write_stdin("{\"type\":\"who\"}\n");
  CHECK(next_envelope(script) ==
        json{{"type", "users"}, {"room", "lobby"}, {"users", {"alice", "bob", "bot"}}});
  CHECK(client.stderr_text().empty());
  CHECK(script.stderr_text().empty());

  client.close_stdin();
  script.close_stdin();
  require_exit(client, 0);
  require_exit(script, 0);
}
