// Chatting once joined: broadcast, acks, ids, requests and leaving.

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

// Checks a msg frame as a JSON member receives it; returns its id.
std::uint64_t expect_msg(const json& frame, const std::string& from, const std::string& text) {
  INFO("frame " << frame.dump());
  CHECK(frame.size() == 6);
  CHECK(frame["type"] == "msg");
  CHECK(frame["room"] == "lobby");
  CHECK(frame["from"] == from);
  CHECK(frame["text"] == text);
  return expect_stamped(frame);
}

// A session's frames are answered in order, so when the answer to a ping or
// a /who comes first, nothing was sent to this client before it: here, no
// echo of its own message.
void expect_nothing_before_pong(line_client& json_client) {
  json_client.send_line(R"({"type":"ping"})");
  CHECK(read_json(json_client) == json{{"type", "pong"}});
}

void expect_nothing_before_who(line_client& plain_client) {
  plain_client.send_line("/who");
  CHECK(plain_client.read_line().starts_with("* users in lobby: "));
}

}  // namespace

TEST_CASE("a message reaches every other member, in each one's form, and not its sender",
          "[messaging]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  line_client carol = join_plain(server.port(), "carol");
  expect_join(alice, "bob");
  expect_join(alice, "carol");
  expect_join(bob, "carol");

  SECTION("from a JSON session") {
    alice.send_line(R"({"type":"msg","text":"hi all"})");
    expect_msg(read_json(bob), "alice", "hi all");
    CHECK(carol.read_line() == "alice: hi all");
    expect_nothing_before_pong(alice);
  }
  SECTION("from a plain session") {
    carol.send_line("hello from a terminal");
    expect_msg(read_json(alice), "carol", "hello from a terminal");
    expect_msg(read_json(bob), "carol", "hello from a terminal");
    expect_nothing_before_who(carol);
  }
  SECTION("text with quotes, backslashes and non-ASCII arrives intact") {
    const std::string text = "caf\xC3\xA9 \"quoted\" back\\slash \xF0\x9F\x99\x82";
    alice.send_line(json{{"type", "msg"}, {"text", text}}.dump());
    expect_msg(read_json(bob), "alice", text);
    CHECK(carol.read_line() == "alice: " + text);
  }
  SECTION("a plain line starting with // sends the rest, / included") {
    carol.send_line("//who");
    expect_msg(read_json(alice), "carol", "/who");
    CHECK(read_json(bob)["text"] == "/who");
  }
}

TEST_CASE("a msg with a ref is acked with that ref and the id the others saw", "[messaging]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  expect_join(alice, "bob");

  for (const char* ref : {"1", R"("abc")", "null", "false", "[1,{\"k\":[]}]", R"({"seq":7})"}) {
    INFO("ref " << ref);
    alice.send_line(std::string(R"({"type":"msg","text":"x","ref":)") + ref + "}");
    const json ack = read_json(alice);
    CHECK(ack.size() == 3);
    CHECK(ack["type"] == "ack");
    CHECK(ack["ref"] == json::parse(ref));
    REQUIRE(ack["id"].is_number_unsigned());
    CHECK(expect_msg(read_json(bob), "alice", "x") == ack["id"].get<std::uint64_t>());
  }

  // Without a ref, no ack.
  alice.send_line(R"({"type":"msg","text":"no ref"})");
  expect_msg(read_json(bob), "alice", "no ref");
  expect_nothing_before_pong(alice);
}

TEST_CASE("message ids increase with every message the server accepts", "[messaging]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  line_client carol = join_json(server.port(), "carol");
  expect_join(alice, "bob");
  expect_join(alice, "carol");
  expect_join(bob, "carol");

  // Waiting for each ack before the next send fixes the order of acceptance.
  std::uint64_t previous = 0;
  for (int i = 0; i < 6; ++i) {
    line_client& sender = i % 2 == 0 ? alice : bob;
    line_client& other = i % 2 == 0 ? bob : alice;
    sender.send_line(json{{"type", "msg"}, {"text", "m" + std::to_string(i)}, {"ref", i}}.dump());
    const json ack = read_json(sender);
    REQUIRE(ack["ref"] == i);
    const auto id = ack["id"].get<std::uint64_t>();
    if (i > 0) CHECK(id > previous);
    previous = id;
    CHECK(read_json(other)["id"] == id);
    CHECK(read_json(carol)["id"] == id);
  }
}

TEST_CASE("a member that leaves is announced to the others and its name is free at once",
          "[messaging]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client carol = join_plain(server.port(), "carol");
  expect_join(alice, "carol");

  auto join_bob = [&](bool plain) {
    line_client bob = plain ? join_plain(server.port(), "bob") : join_json(server.port(), "bob");
    CHECK(read_json(alice) == json{{"type", "join"}, {"room", "lobby"}, {"user", "bob"}});
    CHECK(carol.read_line() == "* bob joined lobby");
    return bob;
  };

  SECTION("by closing the connection") {
    line_client bob = join_bob(false);
    bob.close();
  }
  SECTION("by resetting the connection") {
    line_client bob = join_bob(true);
    bob.reset();
  }
  SECTION("by a JSON quit, after which the server closes") {
    line_client bob = join_bob(false);
    bob.send_line(R"({"type":"quit"})");
    CHECK(bob.read_until_eof().empty());
  }
  SECTION("by a plain /quit, after which the server closes") {
    line_client bob = join_bob(true);
    bob.send_line("/quit");
    CHECK(bob.read_until_eof().empty());
  }

  CHECK(read_json(alice) == json{{"type", "leave"}, {"room", "lobby"}, {"user", "bob"}});
  CHECK(carol.read_line() == "* bob left lobby");

  // Nothing of bob lingers: the name, in any case, can be had again.
  line_client again = join_json(server.port(), "BOB");
  CHECK(read_json(alice) == json{{"type", "join"}, {"room", "lobby"}, {"user", "BOB"}});
}

TEST_CASE("who lists the room in byte order, in the asker's form", "[messaging][requests]") {
  test_server server;
  line_client bob = join_json(server.port(), "bob");
  line_client alice = join_plain(server.port(), "alice");
  line_client zed = join_json(server.port(), "Zed");
  CHECK(alice.read_line() == "* Zed joined lobby");

  zed.send_line(R"({"type":"who"})");
  CHECK(read_json(zed) ==
        json{{"type", "users"}, {"room", "lobby"}, {"users", {"Zed", "alice", "bob"}}});
  alice.send_line("/who");
  CHECK(alice.read_line() == "* users in lobby: Zed, alice, bob");
}

TEST_CASE("ping is answered by pong", "[messaging][requests]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  alice.send_line(R"({"type":"ping"})");
  CHECK(read_json(alice) == json{{"type", "pong"}});
}

TEST_CASE("/help answers with one line of commands", "[messaging][requests]") {
  test_server server;
  line_client alice = join_plain(server.port(), "alice");
  alice.send_line("/help");
  CHECK(alice.read_line().starts_with("* commands:"));
  // One line only: the next answer is already the one to /who.
  expect_nothing_before_who(alice);
}

TEST_CASE("quit closes only after what was queued for the client is sent",
          "[messaging][requests]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  expect_join(alice, "bob");

  // One write: the ack is queued when the quit is read.
  alice.send_raw(frames({R"({"type":"msg","text":"bye","ref":"last"})", R"({"type":"quit"})"}));
  const auto last_words = alice.read_until_eof();
  REQUIRE(last_words.size() == 1);
  CHECK(json::parse(last_words[0])["ref"] == "last");

  expect_msg(read_json(bob), "alice", "bye");
  CHECK(read_json(bob)["type"] == "leave");
}
