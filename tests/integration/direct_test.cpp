// Direct messages: to one user wherever it is, acked like room messages,
// numbered in the same sequence, and never kept in any room's history.

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

using lines = std::vector<std::string>;

// Checks a dm frame as a JSON recipient gets it; returns its id.
std::uint64_t expect_dm(const json& frame, const std::string& from, const std::string& to,
                        const std::string& text) {
  INFO("frame " << frame.dump());
  CHECK(frame.size() == 6);
  CHECK(frame["type"] == "dm");
  CHECK(frame["from"] == from);
  CHECK(frame["to"] == to);
  CHECK(frame["text"] == text);
  return expect_stamped(frame);
}

json ack(const json& ref, std::uint64_t id) {
  return json{{"type", "ack"}, {"ref", ref}, {"id", id}};
}

}  // namespace

TEST_CASE("a direct message reaches its recipient only, in its form, and is acked like a msg",
          "[direct]") {
  test_server server;
  auto [alice, bob, carol, dave] = join_mixed_cast(server.port());

  // JSON to plain, with a ref.
  alice.send_line(R"({"type":"dm","to":"bob","text":"psst, bob","ref":"d1"})");
  json first_ack = read_json(alice);
  REQUIRE(first_ack["id"].is_number_unsigned());
  CHECK(first_ack == ack("d1", first_ack["id"]));
  CHECK(bob.read_line() == "[dm] alice: psst, bob");

  // Plain to JSON: /msg NAME TEXT, the text kept as typed after the name.
  bob.send_line("/msg carol hi  carol, /not a command");
  const std::uint64_t second =
      expect_dm(read_json(carol), "bob", "carol", "hi  carol, /not a command");
  CHECK(second > first_ack["id"].get<std::uint64_t>());

  // The recipient's name matches in any case; the frame spells it as the recipient does.
  alice.send_line(R"({"type":"dm","to":"CAROL","text":"shouting"})");
  expect_dm(read_json(carol), "alice", "carol", "shouting");

  // No one else heard any of it, the senders got nothing but the one ack.
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
  CHECK(lines_before_pong(carol).empty());
  CHECK(lines_before_help(dave).empty());
}

TEST_CASE("direct messages and room messages share one id sequence", "[direct]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  lines_before_pong(alice);

  std::uint64_t previous = 0;
  for (int i = 0; i < 6; ++i) {
    const bool direct = i % 2 == 0;
    alice.send_line(direct ? json{{"type", "dm"}, {"to", "bob"}, {"text", "dm"}, {"ref", i}}.dump()
                           : json{{"type", "msg"}, {"text", "room"}, {"ref", i}}.dump());
    json reply = read_json(alice);
    REQUIRE(reply["ref"] == i);
    const auto id = reply["id"].get<std::uint64_t>();
    json received = read_json(bob);
    CHECK(received["type"] == (direct ? "dm" : "msg"));
    CHECK(received["id"] == id);
    CHECK(id > previous);
    previous = id;
  }
}

TEST_CASE("a direct message reaches a user who shares no room with the sender", "[direct]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client hermit = join_plain(server.port(), "hermit");
  hermit.send_line("/join cave");
  CHECK(hermit.read_line() == "* you joined cave with: hermit");
  hermit.send_line("/leave lobby");
  CHECK(hermit.read_line() == "* you left lobby");
  lines_before_pong(alice);

  alice.send_line(R"({"type":"dm","to":"hermit","text":"anyone home?","ref":7})");
  CHECK(read_json(alice)["type"] == "ack");
  CHECK(hermit.read_line() == "[dm] alice: anyone home?");

  // And back, from a session in no room at all.
  hermit.send_line("/leave");
  CHECK(hermit.read_line() == "* you left cave");
  hermit.send_line("/msg alice yes");
  expect_dm(read_json(alice), "hermit", "alice", "yes");
}

TEST_CASE("a direct message to a name no one has gets no-such-user, and no ack", "[direct]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  line_client gone = join_json(server.port(), "gone");
  lines_before_pong(alice);
  lines_before_help(bob);

  // Someone who was there a moment ago counts as no one.
  gone.close();
  CHECK(read_json(alice) == json{{"type", "leave"}, {"room", "lobby"}, {"user", "gone"}});
  CHECK(bob.read_line() == "* gone left lobby");

  for (const char* to : {"nobody", "gone"}) {
    INFO("to " << to);
    alice.send_line(json{{"type", "dm"}, {"to", to}, {"text", "hello?"}, {"ref", 1}}.dump());
    json error = read_json(alice);
    CHECK(error["type"] == "error");
    CHECK(error["code"] == "no-such-user");
    CHECK(error["message"].get<std::string>().find(to) != std::string::npos);
    bob.send_line(std::string("/msg ") + to + " hello?");
    const std::string plain_error = bob.read_line();
    CHECK(plain_error.starts_with("! error no-such-user: "));
    CHECK(plain_error.find(to) != std::string::npos);
  }
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("a malformed direct message is refused and goes nowhere", "[direct]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);

  const struct {
    const char* request;
    const char* code;
  } json_cases[] = {
      {R"({"type":"dm","to":"bob"})", "bad-request"},
      {R"({"type":"dm","text":"x"})", "bad-request"},
      {R"({"type":"dm","to":"bob","text":""})", "bad-request"},
      {R"({"type":"dm","to":"bob","text":7})", "bad-request"},
      {R"({"type":"dm","to":"bob","text":"a\u001bb"})", "bad-request"},
      {R"({"type":"dm","to":"b o b","text":"x"})", "bad-name"},
  };
  for (const auto& c : json_cases) {
    INFO("request " << c.request);
    alice.send_line(c.request);
    CHECK(read_json(alice)["code"] == c.code);
  }
  const struct {
    const char* line;
    const char* code;
  } plain_cases[] = {
      {"/msg", "bad-request"},
      {"/msg alice", "bad-request"},
      {"/msg alice ", "bad-request"},
      {"/msg al!ce hi", "bad-name"},
  };
  for (const auto& c : plain_cases) {
    INFO("line " << c.line);
    bob.send_line(c.line);
    CHECK(error_code_of(bob.read_line()) == c.code);
  }
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("direct messages are kept in no history", "[direct][history]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  lines_before_pong(alice);
  alice.send_line(R"({"type":"dm","to":"bob","text":"secret"})");
  alice.send_line(R"({"type":"msg","text":"public","ref":1})");
  CHECK(read_json(alice)["type"] == "ack");
  CHECK(read_json(bob)["text"] == "secret");
  CHECK(read_json(bob)["text"] == "public");

  line_client carol = join_json(server.port(), "carol");
  json history = read_json(carol);
  CHECK(history["text"] == "public");
  CHECK(history["history"] == true);
  CHECK(lines_before_pong(carol).empty());
  carol.send_line(R"({"type":"history"})");
  json page = read_json(carol);
  REQUIRE(page["messages"].size() == 1);
  CHECK(page["messages"][0]["text"] == "public");
}
