// Large rooms: past --presence-limit members, arrivals and departures are not
// announced and join replies count the members instead of naming them, so a
// login storm into a big room costs O(members), not O(members^2).

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

using lines = std::vector<std::string>;

test_server server_with_presence_limit(std::size_t limit) {
  auto config = test_config();
  config.presence_limit = limit;
  return test_server(config);
}

json event(const char* type, const char* room, const char* user) {
  return json{{"type", type}, {"room", room}, {"user", user}};
}

// Asks for the lobby's members until they are `expected`: a client's close
// reaches the server on its own schedule, and nothing else announces it in a
// large room.
void await_lobby_members(line_client& json_client, const std::vector<std::string>& expected) {
  const auto deadline = std::chrono::steady_clock::now() + default_timeout;
  json users;
  do {
    json_client.send_line(R"({"type":"who"})");
    users = read_json(json_client)["users"];
    if (users == expected) return;
  } while (std::chrono::steady_clock::now() < deadline);
  FAIL("lobby members stayed " << users.dump());
}

}  // namespace

TEST_CASE("past the presence limit, joins and leaves go unannounced and replies count",
          "[presence]") {
  auto server = server_with_presence_limit(2);
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  // Two members: still a small room, so alice hears bob arrive.
  CHECK(read_json(alice) == event("join", "lobby", "bob"));

  // The third member makes the room large: its welcome counts, nobody is told.
  line_client carol = server.connect();
  expect_prompt(carol);
  carol.send_line(R"({"type":"hello","user":"carol"})");
  CHECK(read_json(carol) ==
        json{{"type", "welcome"}, {"user", "carol"}, {"room", "lobby"}, {"count", 3}});
  line_client dave = server.connect();
  expect_prompt(dave);
  dave.send_line("dave");
  CHECK(dave.read_line() ==
        "* welcome dave, you are in lobby with 4 members (/who lists them) (/help lists commands)");
  CHECK(lines_before_pong(alice).empty());
  CHECK(lines_before_help(bob).empty());

  // Who is there is still one request away.
  alice.send_line(R"({"type":"who"})");
  CHECK(read_json(alice) ==
        json{{"type", "users"}, {"room", "lobby"}, {"users", {"alice", "bob", "carol", "dave"}}});

  // Leaving a large room is as quiet as arriving in it...
  carol.close();
  dave.close();
  await_lobby_members(alice, {"alice", "bob"});
  CHECK(lines_before_help(bob).empty());
  // ...and a room is large while the one leaving is counted: three members,
  // one leaves, no one is told.
  line_client erin = join_plain(server.port(), "erin");
  CHECK(lines_before_pong(alice).empty());
  erin.close();
  await_lobby_members(alice, {"alice", "bob"});
  CHECK(lines_before_help(bob).empty());
  // Two members: a small room again, where leaving is announced.
  bob.close();
  CHECK(read_json(alice) == event("leave", "lobby", "bob"));
}

TEST_CASE("a join reply to a large named room counts its members in both forms", "[presence]") {
  auto server = server_with_presence_limit(1);
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  alice.send_line(R"({"type":"join","room":"big"})");
  CHECK(read_json(alice) == json{{"type", "joined"}, {"room", "big"}, {"users", {"alice"}}});
  bob.send_line("/join big");
  CHECK(bob.read_line() == "* you joined big with 2 members (/who lists them)");
  CHECK(frames_before_pong(alice).empty());
  // Joining again refreshes the view, counted too.
  alice.send_line(R"({"type":"join","room":"big"})");
  CHECK(read_json(alice) == json{{"type", "joined"}, {"room", "big"}, {"count", 2}});
}

TEST_CASE("a presence limit of 0 announces every arrival however large the room", "[presence]") {
  auto server = server_with_presence_limit(0);
  std::vector<line_client> members;
  line_client watcher = join_json(server.port(), "watcher");
  for (int i = 0; i < 120; ++i) {
    members.push_back(join_plain(server.port(), "m" + std::to_string(i)));
  }
  const auto seen = frames_before_pong(watcher);
  REQUIRE(seen.size() == 120);
  CHECK(seen.back() == event("join", "lobby", "m119"));
}
