// Changing names: who hears of it, and which names are free or taken after.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

using lines = std::vector<std::string>;
using json_frames = std::vector<json>;

json nick_event(const std::string& old_name, const std::string& new_name) {
  return json{{"type", "nick"}, {"old", old_name}, {"new", new_name}};
}

std::string hello(const std::string& name) {
  return json{{"type", "hello"}, {"user", name}}.dump();
}

}  // namespace

TEST_CASE("a nick change is told once to the user and to everyone sharing a room with it",
          "[nick]") {
  test_server server;
  // alice and bob share the lobby and dev; carol shares only the lobby; dave
  // shares nothing with them.
  auto [alice, bob, carol, dave] = join_mixed_cast(server.port());
  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice)["type"] == "joined");
  bob.send_line("/join dev");
  CHECK(bob.read_line() == "* you joined dev with: alice, bob");
  dave.send_line("/join ops");
  CHECK(dave.read_line() == "* you joined ops with: dave");
  dave.send_line("/leave lobby");
  CHECK(dave.read_line() == "* you left lobby");
  lines_before_pong(alice);
  lines_before_help(bob);
  lines_before_pong(carol);

  SECTION("from a JSON session") {
    alice.send_line(R"({"type":"nick","user":"al"})");
    CHECK(frames_before_pong(alice) == json_frames{nick_event("alice", "al")});
    CHECK(lines_before_help(bob) == lines{"* alice is now known as al"});
    CHECK(frames_before_pong(carol) == json_frames{nick_event("alice", "al")});
    CHECK(lines_before_help(dave).empty());

    // The new name is the one the others see from now on.
    alice.send_line(R"({"type":"msg","text":"it is al now"})");
    CHECK(bob.read_line() == "[#dev] al: it is al now");
    bob.send_line("/who");
    CHECK(bob.read_line() == "* users in dev: al, bob");
  }
  SECTION("from a plain session") {
    bob.send_line("/nick robert");
    CHECK(lines_before_help(bob) == lines{"* bob is now known as robert"});
    CHECK(frames_before_pong(alice) == json_frames{nick_event("bob", "robert")});
    CHECK(frames_before_pong(carol) == json_frames{nick_event("bob", "robert")});
    CHECK(lines_before_help(dave).empty());

    bob.send_line("still me");
    json frame = read_json(alice);
    CHECK(frame["from"] == "robert");
    CHECK(frame["room"] == "dev");
    alice.send_line(R"({"type":"who","room":"lobby"})");
    CHECK(read_json(alice)["users"] == json{"alice", "carol", "robert"});
  }
  SECTION("alone in a room, only the user hears of it") {
    dave.send_line("/nick david");
    CHECK(lines_before_help(dave) == lines{"* dave is now known as david"});
    CHECK(lines_before_pong(alice).empty());
    CHECK(lines_before_help(bob).empty());
    CHECK(lines_before_pong(carol).empty());
  }
}

TEST_CASE("after a nick change the old name is free at once and the new one is taken", "[nick]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);
  alice.send_line(R"({"type":"msg","text":"said as alice"})");
  CHECK(bob.read_line() == "alice: said as alice");

  alice.send_line(R"({"type":"nick","user":"al"})");
  CHECK(read_json(alice) == nick_event("alice", "al"));
  CHECK(bob.read_line() == "* alice is now known as al");

  // The new name is taken, in any case, at login and by nick.
  line_client newcomer = server.connect();
  expect_prompt(newcomer);
  newcomer.send_line(hello("AL"));
  CHECK(read_json(newcomer)["code"] == "name-taken");
  expect_prompt(newcomer);
  bob.send_line("/nick aL");
  CHECK(bob.read_line().starts_with("! error name-taken: "));

  // The old one can be had at once.
  newcomer.send_line(hello("alice"));
  CHECK(read_json(newcomer)["type"] == "welcome");
  // History keeps the name a message was sent under.
  json history = read_json(newcomer);
  CHECK(history["from"] == "alice");
  CHECK(history["text"] == "said as alice");
  CHECK(read_json(alice) == json{{"type", "join"}, {"room", "lobby"}, {"user", "alice"}});
  CHECK(bob.read_line() == "* alice joined lobby");

  // Direct messages follow the names.
  bob.send_line("/msg al to the renamed one");
  CHECK(read_json(alice)["text"] == "to the renamed one");
  bob.send_line("/msg alice to the newcomer");
  CHECK(read_json(newcomer)["text"] == "to the newcomer");
  CHECK(lines_before_pong(alice).empty());

  // And leaves are told under the new name.
  alice.close();
  CHECK(bob.read_line() == "* al left lobby");
}

TEST_CASE("a nick must follow the name rules and not be someone else's", "[nick]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);

  for (const char* name : {"BOB", "bob"}) {
    INFO("name " << name);
    alice.send_line(json{{"type", "nick"}, {"user", name}}.dump());
    json error = read_json(alice);
    CHECK(error["code"] == "name-taken");
  }
  bob.send_line("/nick Alice");
  CHECK(bob.read_line().starts_with("! error name-taken: "));

  const std::string too_long(33, 'n');
  for (const std::string& name :
       {std::string("two words"), std::string("caf\xC3\xA9"), std::string("a!"), too_long}) {
    INFO("name '" << name << "'");
    alice.send_line(json{{"type", "nick"}, {"user", name}}.dump());
    CHECK(read_json(alice)["code"] == "bad-name");
    if (name != "two words") {  // the plain command takes one word
      bob.send_line("/nick " + name);
      CHECK(bob.read_line().starts_with("! error bad-name: "));
    }
  }
  for (const char* request : {R"({"type":"nick"})", R"({"type":"nick","user":1})"}) {
    INFO("request " << request);
    alice.send_line(request);
    CHECK(read_json(alice)["code"] == "bad-request");
  }
  alice.send_line(R"({"type":"nick","user":""})");
  CHECK(read_json(alice)["code"] == "bad-name");
  bob.send_line("/nick");
  CHECK(bob.read_line().starts_with("! error bad-request: "));

  // Nothing changed: no one heard of a nick.
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
  alice.send_line(R"({"type":"who"})");
  CHECK(read_json(alice)["users"] == json{"alice", "bob"});
}

TEST_CASE("a nick to exactly the name one has changes nothing and tells nobody", "[nick]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);

  alice.send_line(R"({"type":"nick","user":"alice"})");
  bob.send_line("/nick bob");
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("a nick may change only the case of a name", "[nick]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);

  alice.send_line(R"({"type":"nick","user":"Alice"})");
  CHECK(read_json(alice) == nick_event("alice", "Alice"));
  CHECK(bob.read_line() == "* alice is now known as Alice");
  bob.send_line("/who");
  CHECK(bob.read_line() == "* users in lobby: Alice, bob");
}
