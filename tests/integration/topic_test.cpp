// Room topics: set for the whole room, asked for by one, shown to newcomers.

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

using json_frames = std::vector<json>;

json topic_set(const std::string& room, const std::string& text, const std::string& by) {
  return json{{"type", "topic"}, {"room", room}, {"text", text}, {"by", by}};
}

json topic_told(const std::string& room, const std::string& text) {
  return json{{"type", "topic"}, {"room", room}, {"text", text}};
}

}  // namespace

TEST_CASE("a topic set is told to every member of the room, the setter too, in each form",
          "[topic]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  line_client carol = join_json(server.port(), "carol");
  lines_before_pong(alice);
  lines_before_help(bob);
  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice)["type"] == "joined");
  bob.send_line("/join dev");
  CHECK(bob.read_line() == "* you joined dev with: alice, bob");
  lines_before_pong(alice);

  alice.send_line(R"({"type":"topic","text":"release on friday"})");
  CHECK(read_json(alice) == topic_set("dev", "release on friday", "alice"));
  CHECK(bob.read_line() == "* alice set the topic of dev: release on friday");

  bob.send_line("/topic ship it: no more features");
  CHECK(bob.read_line() == "* bob set the topic of dev: ship it: no more features");
  CHECK(read_json(alice) == topic_set("dev", "ship it: no more features", "bob"));

  // A JSON request may name a room other than the current one.
  alice.send_line(R"({"type":"topic","room":"lobby","text":"welcome, all"})");
  CHECK(read_json(alice) == topic_set("lobby", "welcome, all", "alice"));
  CHECK(bob.read_line() == "* alice set the topic of lobby: welcome, all");
  CHECK(read_json(carol) == topic_set("lobby", "welcome, all", "alice"));

  // carol is not in dev: she heard of the lobby's topic only.
  CHECK(lines_before_pong(carol).empty());
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("asking for the topic answers the asker only", "[topic]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);

  // None set yet.
  alice.send_line(R"({"type":"topic"})");
  CHECK(read_json(alice) == topic_told("lobby", ""));
  bob.send_line("/topic");
  CHECK(bob.read_line() == "* topic of lobby: (none)");

  alice.send_line(R"({"type":"topic","text":"coffee"})");
  CHECK(read_json(alice) == topic_set("lobby", "coffee", "alice"));
  CHECK(bob.read_line() == "* alice set the topic of lobby: coffee");

  alice.send_line(R"({"type":"topic","room":"lobby"})");
  CHECK(read_json(alice) == topic_told("lobby", "coffee"));
  bob.send_line("/topic");
  CHECK(bob.read_line() == "* topic of lobby: coffee");
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("a newcomer finds the topic in its welcome or joined reply", "[topic]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  alice.send_line(R"({"type":"topic","text":"say hi"})");
  CHECK(read_json(alice)["type"] == "topic");
  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice)["type"] == "joined");
  alice.send_line(R"({"type":"topic","text":"code only"})");
  CHECK(read_json(alice)["type"] == "topic");

  line_client bob = server.connect();
  expect_prompt(bob);
  bob.send_line(R"({"type":"hello","user":"bob"})");
  CHECK(read_json(bob) == json{{"type", "welcome"},
                               {"user", "bob"},
                               {"room", "lobby"},
                               {"users", {"alice", "bob"}},
                               {"topic", "say hi"}});
  bob.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(bob) == json{{"type", "joined"},
                               {"room", "dev"},
                               {"users", {"alice", "bob"}},
                               {"topic", "code only"}});

  line_client carol = server.connect();
  expect_prompt(carol);
  carol.send_line("carol");
  CHECK(carol.read_line() ==
        "* welcome carol, you are in lobby with: alice, bob, carol; topic: say hi (/help lists "
        "commands)");
  carol.send_line("/join dev");
  CHECK(carol.read_line() == "* you joined dev with: alice, bob, carol; topic: code only");
}

TEST_CASE("an empty topic clears it, and a room that disappears takes its topic along", "[topic]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice)["type"] == "joined");
  alice.send_line(R"({"type":"topic","text":"temporary"})");
  CHECK(read_json(alice) == topic_set("dev", "temporary", "alice"));

  // Lives to the end of the test, so that its leave does not come in between.
  std::optional<line_client> bob;
  SECTION("cleared, as every member is told") {
    bob = join_plain(server.port(), "bob");
    bob->send_line("/join dev");
    CHECK(bob->read_line() == "* you joined dev with: alice, bob; topic: temporary");
    lines_before_pong(alice);
    alice.send_line(R"({"type":"topic","text":""})");
    CHECK(read_json(alice) == topic_set("dev", "", "alice"));
    CHECK(bob->read_line() == "* alice cleared the topic of dev");
    alice.send_line(R"({"type":"join","room":"dev"})");
    CHECK(read_json(alice) ==
          json{{"type", "joined"}, {"room", "dev"}, {"users", {"alice", "bob"}}});
    bob->send_line("/topic");
    CHECK(bob->read_line() == "* topic of dev: (none)");
  }
  SECTION("the room emptied and made again") {
    alice.send_line(R"({"type":"leave"})");
    CHECK(read_json(alice) == json{{"type", "left"}, {"room", "dev"}});
    alice.send_line(R"({"type":"join","room":"dev"})");
    CHECK(read_json(alice) == json{{"type", "joined"}, {"room", "dev"}, {"users", {"alice"}}});
  }
  alice.send_line(R"({"type":"topic"})");
  CHECK(read_json(alice) == topic_told("dev", ""));
  alice.send_line(R"({"type":"rooms"})");
  CHECK_FALSE(read_json(alice)["rooms"][0].contains("topic"));
}

TEST_CASE("a topic with control characters or of the wrong type is refused", "[topic]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);

  for (const char* request :
       {R"({"type":"topic","text":"a\u001b[2Jb"})", R"({"type":"topic","text":"two\nlines"})",
        R"({"type":"topic","text":7})", R"({"type":"topic","room":7})"}) {
    INFO("request " << request);
    alice.send_line(request);
    CHECK(read_json(alice)["code"] == "bad-request");
  }
  bob.send_line("/topic a\x1b[2Jb");
  CHECK(bob.read_line().starts_with("! error bad-request: "));

  // Nothing was set.
  bob.send_line("/topic");
  CHECK(bob.read_line() == "* topic of lobby: (none)");
  CHECK(lines_before_pong(alice).empty());
}
