// History kept in memory: what a newcomer is shown on joining, how JSON
// clients page back, and what the ring keeps.

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

chat::server::config history_of(std::size_t limit) {
  auto config = test_config();
  config.history = limit;
  return config;
}

json history_page(line_client& json_client, const json& request) {
  json_client.send_line(request.dump());
  json page = read_json(json_client);
  INFO("page " << page.dump());
  REQUIRE(page["type"] == "history");
  REQUIRE(page["messages"].is_array());
  return page;
}

std::vector<std::uint64_t> ids_of(const json& page) {
  std::vector<std::uint64_t> ids;
  for (const json& m : page["messages"]) ids.push_back(m["id"].get<std::uint64_t>());
  return ids;
}

std::vector<std::uint64_t> slice(const std::vector<std::uint64_t>& ids, std::size_t from,
                                 std::size_t to) {
  return {ids.begin() + static_cast<std::ptrdiff_t>(from),
          ids.begin() + static_cast<std::ptrdiff_t>(to)};
}

// The member already there was told of bob's joins, and of nothing else.
void expect_told_of_bob(line_client& alice) {
  CHECK(frames_before_pong(alice) ==
        std::vector<json>{json{{"type", "join"}, {"room", "lobby"}, {"user", "bob"}},
                          json{{"type", "join"}, {"room", "dev"}, {"user", "bob"}}});
}

}  // namespace

TEST_CASE("joining a room shows its history, marked, before anything live, in both forms",
          "[history]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice)["type"] == "joined");
  const auto ids = say_numbered(alice, 3);

  SECTION("a JSON member") {
    line_client bob = join_json(server.port(), "bob");
    bob.send_line(R"({"type":"join","room":"dev"})");
    CHECK(read_json(bob) == json{{"type", "joined"}, {"room", "dev"}, {"users", {"alice", "bob"}}});
    for (int i = 0; i < 3; ++i) {
      json frame = read_json(bob);
      INFO("frame " << frame.dump());
      CHECK(frame.size() == 7);
      CHECK(frame["type"] == "msg");
      CHECK(frame["id"] == ids[i]);
      CHECK(frame["ts"].is_number_integer());
      CHECK(frame["room"] == "dev");
      CHECK(frame["from"] == "alice");
      CHECK(frame["text"] == "m" + std::to_string(i));
      CHECK(frame["history"] == true);
    }
    alice.send_line(R"({"type":"msg","text":"live"})");
    json live = read_json(bob);
    CHECK(live["text"] == "live");
    CHECK_FALSE(live.contains("history"));
    CHECK(live["id"].get<std::uint64_t>() > ids.back());
    expect_told_of_bob(alice);
  }
  SECTION("a plain member") {
    line_client bob = join_plain(server.port(), "bob");
    bob.send_line("/join dev");
    CHECK(bob.read_line() == "* you joined dev with: alice, bob");
    CHECK(bob.read_line() == "[history] [#dev] alice: m0");
    CHECK(bob.read_line() == "[history] [#dev] alice: m1");
    CHECK(bob.read_line() == "[history] [#dev] alice: m2");
    alice.send_line(R"({"type":"msg","text":"live"})");
    CHECK(bob.read_line() == "[#dev] alice: live");
    expect_told_of_bob(alice);
  }
}

TEST_CASE("logging in shows the default room's history after the welcome", "[history]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  const auto ids = say_numbered(alice, 2);

  line_client bob = join_plain(server.port(), "bob");  // reads the welcome
  CHECK(bob.read_line() == "[history] alice: m0");
  CHECK(bob.read_line() == "[history] alice: m1");
  CHECK(lines_before_help(bob).empty());

  line_client carol = join_json(server.port(), "carol");
  for (int i = 0; i < 2; ++i) {
    json frame = read_json(carol);
    CHECK(frame["id"] == ids[i]);
    CHECK(frame["room"] == "lobby");
    CHECK(frame["history"] == true);
  }
  CHECK(lines_before_pong(carol).empty());
}

TEST_CASE("a room's history holds that room's messages only", "[history]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice)["type"] == "joined");
  alice.send_line(R"({"type":"msg","room":"lobby","text":"in the lobby"})");
  alice.send_line(R"({"type":"msg","room":"dev","text":"in dev"})");
  lines_before_pong(alice);

  line_client bob = join_plain(server.port(), "bob");
  CHECK(bob.read_line() == "[history] alice: in the lobby");
  bob.send_line("/join dev");
  CHECK(bob.read_line() == "* you joined dev with: alice, bob");
  CHECK(bob.read_line() == "[history] [#dev] alice: in dev");
  CHECK(lines_before_help(bob).empty());
}

TEST_CASE("history pages back with before and limit, oldest first", "[history]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  const auto ids = say_numbered(alice, 30);

  // The default page is the newest 50, here everything.
  const json all = history_page(alice, {{"type", "history"}});
  CHECK(all["room"] == "lobby");
  CHECK(ids_of(all) == ids);
  const json& first = all["messages"][0];
  CHECK(first.size() == 4);
  CHECK(first["from"] == "alice");
  CHECK(first["text"] == "m0");
  CHECK(first["ts"].is_number_integer());

  CHECK(ids_of(history_page(alice, {{"type", "history"}, {"limit", 10}})) == slice(ids, 20, 30));
  CHECK(ids_of(history_page(alice, {{"type", "history"}, {"before", ids[20]}, {"limit", 5}})) ==
        slice(ids, 15, 20));
  // Paging on from the oldest id of each page reaches the start, then nothing.
  std::vector<std::uint64_t> collected;
  std::uint64_t before = 0;
  for (int pages = 0; pages < 10; ++pages) {
    json request = {{"type", "history"}, {"room", "lobby"}, {"limit", 7}};
    if (before != 0) request["before"] = before;
    const auto page = ids_of(history_page(alice, request));
    if (page.empty()) break;
    collected.insert(collected.begin(), page.begin(), page.end());
    before = page.front();
  }
  CHECK(collected == ids);
  CHECK(ids_of(history_page(alice, {{"type", "history"}, {"before", ids[0]}})).empty());
  CHECK(ids_of(history_page(alice, {{"type", "history"}, {"before", ids.back() + 1000}})) == ids);
  CHECK(ids_of(history_page(alice, {{"type", "history"}, {"limit", 200}})) == ids);
}

TEST_CASE("a history request out of bounds or for a room not joined is refused", "[history]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  const struct {
    const char* request;
    const char* code;
  } cases[] = {
      {R"({"type":"history","limit":0})", "bad-request"},
      {R"({"type":"history","limit":201})", "bad-request"},
      {R"({"type":"history","limit":-1})", "bad-request"},
      {R"({"type":"history","limit":"5"})", "bad-request"},
      {R"({"type":"history","limit":2.5})", "bad-request"},
      {R"({"type":"history","before":-3})", "bad-request"},
      {R"({"type":"history","before":"9"})", "bad-request"},
      {R"({"type":"history","room":"no room"})", "bad-request"},
      {R"({"type":"history","room":"elsewhere"})", "not-in-room"},
  };
  for (const auto& c : cases) {
    INFO("request " << c.request);
    alice.send_line(c.request);
    CHECK(read_json(alice)["code"] == c.code);
  }
  // History is a JSON request: the plain command does not exist.
  line_client bob = join_plain(server.port(), "bob");
  bob.send_line("/history");
  CHECK(bob.read_line().starts_with("! error unknown-command: "));
}

TEST_CASE("each room keeps its last --history messages, and 0 keeps none", "[history]") {
  SECTION("a ring of 5") {
    test_server server(history_of(5));
    line_client alice = join_json(server.port(), "alice");
    const auto ids = say_numbered(alice, 12);
    CHECK(ids_of(history_page(alice, {{"type", "history"}})) == slice(ids, 7, 12));

    line_client bob = join_plain(server.port(), "bob");
    for (int i = 7; i < 12; ++i) CHECK(bob.read_line() == "[history] alice: m" + std::to_string(i));
    CHECK(lines_before_help(bob).empty());
  }
  SECTION("none") {
    test_server server(history_of(0));
    line_client alice = join_json(server.port(), "alice");
    say_numbered(alice, 3);
    CHECK(history_page(alice, {{"type", "history"}})["messages"].empty());
    line_client bob = join_json(server.port(), "bob");
    CHECK(lines_before_pong(bob).empty());
  }
}

TEST_CASE("an emptied room's history, kept in memory only, goes with the room", "[history]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice)["type"] == "joined");
  say_numbered(alice, 2);
  alice.send_line(R"({"type":"leave","room":"dev"})");
  CHECK(read_json(alice) == json{{"type", "left"}, {"room", "dev"}});

  alice.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(alice) == json{{"type", "joined"}, {"room", "dev"}, {"users", {"alice"}}});
  CHECK(lines_before_pong(alice).empty());
  CHECK(history_page(alice, {{"type", "history"}})["messages"].empty());
}
