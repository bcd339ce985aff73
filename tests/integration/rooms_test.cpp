// Rooms: traffic stays in its room, members see each other come and go, the
// room list counts them, and a session's current room decides where its
// plain lines go.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

using lines = std::vector<std::string>;
using json_frames = std::vector<json>;

json room_event(const char* type, const std::string& room, const std::string& user) {
  return json{{"type", type}, {"room", room}, {"user", user}};
}

// Joins `room` from a JSON session and checks the reply's room and members.
void join_json_room(line_client& client, const std::string& room,
                    const std::vector<std::string>& users) {
  client.send_line(json{{"type", "join"}, {"room", room}}.dump());
  CHECK(read_json(client) == json{{"type", "joined"}, {"room", room}, {"users", users}});
}

// Reads a JSON msg frame and checks where it was said, by whom and what.
void expect_msg(line_client& client, const std::string& room, const std::string& from,
                const std::string& text) {
  json frame = read_json(client);
  INFO("frame " << frame.dump());
  CHECK(frame["type"] == "msg");
  CHECK(frame["room"] == room);
  CHECK(frame["from"] == from);
  CHECK(frame["text"] == text);
  CHECK(frame["id"].is_number_unsigned());
  CHECK_FALSE(frame.contains("history"));
}

json rooms_of(line_client& json_client) {
  json_client.send_line(R"({"type":"rooms"})");
  json answer = read_json(json_client);
  REQUIRE(answer["type"] == "rooms");
  return answer["rooms"];
}

json room_entry(const std::string& room, int users) {
  return json{{"room", room}, {"users", users}};
}

}  // namespace

TEST_CASE("a message said in a room reaches that room's members only, in both forms", "[rooms]") {
  test_server server;
  // In dev and the lobby: one of each form. In the lobby only: the same.
  auto [alice, bob, carol, dave] = join_mixed_cast(server.port());

  join_json_room(alice, "dev", {"alice"});
  bob.send_line("/join dev");
  CHECK(bob.read_line() == "* you joined dev with: alice, bob");
  CHECK(read_json(alice) == room_event("join", "dev", "bob"));

  // JSON sender, to its current room and to a named one.
  alice.send_line(R"({"type":"msg","text":"current room","ref":1})");
  CHECK(read_json(alice)["type"] == "ack");
  CHECK(bob.read_line() == "[#dev] alice: current room");
  alice.send_line(R"({"type":"msg","room":"dev","text":"named room"})");
  CHECK(bob.read_line() == "[#dev] alice: named room");
  // Plain sender: its current room is the one it joined last.
  bob.send_line("plain line");
  expect_msg(alice, "dev", "bob", "plain line");

  // None of it, not even the joins, reached the lobby-only members.
  CHECK(lines_before_pong(carol).empty());
  CHECK(lines_before_help(dave).empty());

  // The lobby is still shared by all four; its plain form names no room.
  alice.send_line(R"({"type":"msg","room":"lobby","text":"hello lobby"})");
  expect_msg(carol, "lobby", "alice", "hello lobby");
  CHECK(dave.read_line() == "alice: hello lobby");
  CHECK(bob.read_line() == "alice: hello lobby");
  carol.send_line(R"({"type":"msg","text":"from the lobby"})");
  expect_msg(alice, "lobby", "carol", "from the lobby");
  CHECK(bob.read_line() == "carol: from the lobby");
  CHECK(dave.read_line() == "carol: from the lobby");

  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("a room's members see joins and leaves of that room, and only of it", "[rooms]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  line_client carol = join_json(server.port(), "carol");
  lines_before_pong(alice);
  lines_before_help(bob);

  join_json_room(alice, "dev", {"alice"});
  bob.send_line("/join #dev");
  CHECK(bob.read_line() == "* you joined dev with: alice, bob");
  CHECK(read_json(alice) == room_event("join", "dev", "bob"));
  join_json_room(carol, "dev", {"alice", "bob", "carol"});
  CHECK(read_json(alice) == room_event("join", "dev", "carol"));
  CHECK(bob.read_line() == "* carol joined dev");

  SECTION("a plain /leave") {
    bob.send_line("/leave dev");
    CHECK(bob.read_line() == "* you left dev");
    CHECK(read_json(alice) == room_event("leave", "dev", "bob"));
    CHECK(read_json(carol) == room_event("leave", "dev", "bob"));
    // Still in the lobby with the others, who hear nothing of it there.
    bob.send_line("/who lobby");
    CHECK(bob.read_line() == "* users in lobby: alice, bob, carol");
  }
  SECTION("a JSON leave") {
    carol.send_line(R"({"type":"leave","room":"dev"})");
    CHECK(read_json(carol) == json{{"type", "left"}, {"room", "dev"}});
    CHECK(read_json(alice) == room_event("leave", "dev", "carol"));
    CHECK(bob.read_line() == "* carol left dev");
  }
  SECTION("disconnecting leaves every room, each announced once") {
    carol.close();
    std::set<std::string> left;
    left.insert(read_json(alice).dump());
    left.insert(read_json(alice).dump());
    CHECK(left == std::set<std::string>{room_event("leave", "lobby", "carol").dump(),
                                        room_event("leave", "dev", "carol").dump()});
    const std::set<std::string> plain_left = {bob.read_line(), bob.read_line()};
    CHECK(plain_left == std::set<std::string>{"* carol left lobby", "* carol left dev"});
  }
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("rooms lists every room with its member count, and an emptied room disappears",
          "[rooms]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);

  CHECK(rooms_of(alice) == json{room_entry("lobby", 2)});
  join_json_room(alice, "dev", {"alice"});
  join_json_room(alice, "ops", {"alice"});
  join_json_room(alice, "Zeta", {"alice"});
  bob.send_line("/join DEV");  // names are one room whatever their case
  CHECK(bob.read_line() == "* you joined dev with: alice, bob");
  CHECK(read_json(alice) == room_event("join", "dev", "bob"));

  // Sorted by byte order; the first spelling of a name is the room's name.
  CHECK(rooms_of(alice) == json{room_entry("Zeta", 1), room_entry("dev", 2), room_entry("lobby", 2),
                                room_entry("ops", 1)});
  bob.send_line("/rooms");
  CHECK(bob.read_line() == "* rooms: Zeta (1), dev (2), lobby (2), ops (1)");

  alice.send_line(R"({"type":"leave","room":"ops"})");
  CHECK(read_json(alice) == json{{"type", "left"}, {"room", "ops"}});
  alice.send_line(R"({"type":"leave","room":"zeta"})");
  CHECK(read_json(alice) == json{{"type", "left"}, {"room", "Zeta"}});
  CHECK(rooms_of(alice) == json{room_entry("dev", 2), room_entry("lobby", 2)});

  // The default room stays even when no one is in it.
  alice.send_line(R"({"type":"leave","room":"lobby"})");
  CHECK(read_json(alice) == json{{"type", "left"}, {"room", "lobby"}});
  CHECK(bob.read_line() == "* alice left lobby");
  bob.send_line("/leave lobby");
  CHECK(bob.read_line() == "* you left lobby");
  CHECK(rooms_of(alice) == json{room_entry("dev", 2), room_entry("lobby", 0)});

  // A room that comes back is a new room: its name is spelled anew.
  alice.send_line(R"({"type":"leave","room":"dev"})");
  CHECK(read_json(alice) == json{{"type", "left"}, {"room", "dev"}});
  CHECK(bob.read_line() == "* alice left dev");
  bob.send_line("/leave");
  CHECK(bob.read_line() == "* you left dev");
  CHECK(rooms_of(alice) == json{room_entry("lobby", 0)});
  join_json_room(alice, "Ops", {"alice"});
  CHECK(rooms_of(alice) == json{room_entry("Ops", 1), room_entry("lobby", 0)});
}

TEST_CASE("rooms shows a room's topic once one is set", "[rooms][topic]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  join_json_room(alice, "dev", {"alice"});
  alice.send_line(R"({"type":"topic","text":"release planning"})");
  CHECK(read_json(alice)["type"] == "topic");
  CHECK(rooms_of(alice) == json{{{"room", "dev"}, {"users", 1}, {"topic", "release planning"}},
                                room_entry("lobby", 1)});
}

namespace {

// One session of either form, seen through what the current-room rules are
// about: where a line without a room goes.
class speaker {
public:
  speaker(std::uint16_t port, std::string name, bool json_form)
      : client_(json_form ? join_json(port, name) : join_plain(port, name)),
        name_(std::move(name)),
        json_(json_form) {}

  // Joins the room; returns what came after the reply: the room's history.
  lines join(const std::string& room) {
    if (json_) {
      client_.send_line(json{{"type", "join"}, {"room", room}}.dump());
      json reply = read_json(client_);
      CHECK(reply["type"] == "joined");
      CHECK(reply["room"] == room);
    } else {
      client_.send_line("/join " + room);
      CHECK(client_.read_line().starts_with("* you joined " + room + " with: "));
    }
    return pending();
  }

  // Leaves the room named, or the current one when `room` is empty;
  // `expected` is the room the server says was left.
  void leave(const std::string& room, const std::string& expected) {
    if (json_) {
      client_.send_line(room.empty() ? json{{"type", "leave"}}.dump()
                                     : json{{"type", "leave"}, {"room", room}}.dump());
      CHECK(read_json(client_) == json{{"type", "left"}, {"room", expected}});
    } else {
      client_.send_line(room.empty() ? "/leave" : "/leave " + room);
      CHECK(client_.read_line() == "* you left " + expected);
    }
  }

  void say(const std::string& text) {
    client_.send_line(json_ ? json{{"type", "msg"}, {"text", text}}.dump() : text);
  }

  // What the session was told since its last request was answered.
  lines pending() { return json_ ? lines_before_pong(client_) : lines_before_help(client_); }

  std::string next_error_code() { return error_code_of(client_.read_line()); }

  const std::string& name() const { return name_; }

private:
  line_client client_;
  std::string name_;
  bool json_;
};

}  // namespace

TEST_CASE("lines without a room go to the current room: the last joined, or the one rejoined",
          "[rooms]") {
  const bool json_form = GENERATE(false, true);
  INFO((json_form ? "JSON" : "plain") << " session");
  test_server server;
  // The listener is in every room and sees where each line lands.
  line_client listener = join_json(server.port(), "listener");
  speaker mover(server.port(), "mover", json_form);
  lines_before_pong(listener);
  for (const char* room : {"dev", "ops"}) join_json_room(listener, room, {"listener"});

  auto expect_said_in = [&](const std::string& room, const std::string& text) {
    mover.say(text);
    expect_msg(listener, room, "mover", text);
  };

  auto join = [&](const std::string& room) {
    mover.join(room);
    CHECK(read_json(listener) == room_event("join", room, "mover"));
  };

  expect_said_in("lobby", "at login, the default room");
  join("dev");
  expect_said_in("dev", "after joining dev");
  join("ops");
  expect_said_in("ops", "after joining ops");

  // Joining a room again makes it current, and is news to no one; the
  // history it holds (what was said after joining dev) is not sent again.
  CHECK(mover.join("dev").empty());
  expect_said_in("dev", "after joining dev again");
  // Leaving a room other than the current one leaves the current one be.
  mover.leave("lobby", "lobby");
  CHECK(read_json(listener) == room_event("leave", "lobby", "mover"));
  expect_said_in("dev", "after leaving the lobby");

  // Leaving the current room falls back to the room joined most recently:
  // joined in the order ops, dev, lobby, then ops again.
  join("lobby");
  CHECK(mover.join("ops").empty());
  mover.leave("", "ops");
  CHECK(read_json(listener) == room_event("leave", "ops", "mover"));
  expect_said_in("lobby", "after leaving ops");
  mover.leave("lobby", "lobby");
  CHECK(read_json(listener) == room_event("leave", "lobby", "mover"));
  expect_said_in("dev", "after leaving the lobby too");
  mover.leave("", "dev");
  CHECK(read_json(listener) == room_event("leave", "dev", "mover"));

  // In no room at all, a line has nowhere to go.
  mover.say("into the void");
  CHECK(mover.next_error_code() == "not-in-room");
  join("ops");
  expect_said_in("ops", "back in a room");

  CHECK(mover.pending().empty());
  CHECK(lines_before_pong(listener).empty());
}

TEST_CASE("joining a room already joined answers joined again, without history or a join event",
          "[rooms]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);
  join_json_room(alice, "dev", {"alice"});
  bob.send_line("/join dev");
  CHECK(bob.read_line() == "* you joined dev with: alice, bob");
  alice.send_line(R"({"type":"msg","text":"said once"})");
  CHECK(bob.read_line() == "[#dev] alice: said once");
  CHECK(frames_before_pong(alice) == json_frames{room_event("join", "dev", "bob")});

  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice) == json{{"type", "joined"}, {"room", "dev"}, {"users", {"alice", "bob"}}});
  CHECK(lines_before_pong(alice).empty());
  bob.send_line("/join dev");
  CHECK(bob.read_line() == "* you joined dev with: alice, bob");
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("asking about or sending to a room one is not in gets not-in-room", "[rooms]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  // ops exists, with someone in it who must hear nothing of the attempts.
  line_client owner = join_json(server.port(), "owner");
  join_json_room(owner, "ops", {"owner"});
  lines_before_pong(alice);
  lines_before_help(bob);
  lines_before_pong(owner);

  for (const char* room : {"ops", "nowhere"}) {
    INFO("room " << room);
    const std::string name = room;
    for (const json& request :
         {json{{"type", "msg"}, {"room", name}, {"text", "hi"}, {"ref", 1}},
          json{{"type", "who"}, {"room", name}}, json{{"type", "leave"}, {"room", name}},
          json{{"type", "topic"}, {"room", name}},
          json{{"type", "topic"}, {"room", name}, {"text", "mine now"}},
          json{{"type", "history"}, {"room", name}}}) {
      INFO("request " << request.dump());
      alice.send_line(request.dump());
      json error = read_json(alice);
      CHECK(error["type"] == "error");
      CHECK(error["code"] == "not-in-room");
      CHECK(error["message"].get<std::string>().find(name) != std::string::npos);
    }
    for (const std::string command : {"/who ", "/leave "}) {
      INFO("command " << command << room);
      bob.send_line(command + room);
      CHECK(bob.read_line().starts_with("! error not-in-room: "));
    }
  }

  // With no current room, the plain commands that default to it fail alike.
  bob.send_line("/leave");
  CHECK(bob.read_line() == "* you left lobby");
  for (const char* line : {"a message", "/who", "/topic", "/topic new topic", "/leave"}) {
    INFO("line " << line);
    bob.send_line(line);
    CHECK(bob.read_line().starts_with("! error not-in-room: "));
  }

  CHECK(frames_before_pong(owner) == json_frames{room_event("leave", "lobby", "bob")});
  CHECK(frames_before_pong(alice) == json_frames{room_event("leave", "lobby", "bob")});
  alice.send_line(R"({"type":"who"})");
  CHECK(read_json(alice) ==
        json{{"type", "users"}, {"room", "lobby"}, {"users", {"alice", "owner"}}});
}

TEST_CASE("a room name that breaks the rules is refused with bad-request", "[rooms]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  lines_before_pong(alice);

  const std::string longest(64, 'r');
  for (const std::string& room : {std::string("#"), std::string("caf\xC3\xA9"), std::string("a/b"),
                                  std::string("a:b"), longest + "r"}) {
    INFO("room '" << room << "'");
    alice.send_line(json{{"type", "join"}, {"room", room}}.dump());
    CHECK(read_json(alice)["code"] == "bad-request");
    bob.send_line("/join " + room);
    CHECK(bob.read_line().starts_with("! error bad-request: "));
  }
  for (const char* request :
       {R"({"type":"join"})", R"({"type":"join","room":5})", R"({"type":"join","room":""})",
        R"({"type":"join","room":"a b"})", R"({"type":"msg","room":"a b","text":"x"})"}) {
    INFO("request " << request);
    alice.send_line(request);
    CHECK(read_json(alice)["code"] == "bad-request");
  }
  bob.send_line("/join");
  CHECK(bob.read_line().starts_with("! error bad-request: "));

  // 64 is the limit, and a leading # is no part of the name.
  alice.send_line(json{{"type", "join"}, {"room", "#" + longest}}.dump());
  CHECK(read_json(alice) == json{{"type", "joined"}, {"room", longest}, {"users", {"alice"}}});
  CHECK(rooms_of(alice) == json{room_entry("lobby", 2), room_entry(longest, 1)});
  CHECK(lines_before_help(bob).empty());
}
