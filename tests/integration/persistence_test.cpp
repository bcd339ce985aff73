// History on disk (config.data_dir): it outlives the server and the rooms,
// and a database the server cannot use stops it at start with a clear word.

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "data_dir.hpp"
#include "store/store_error.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

chat::server::config persistent(const data_dir& dir, std::size_t history = 100) {
  auto config = test_config();
  config.data_dir = dir.string();
  config.history = history;
  return config;
}

void join_room(line_client& json_client, const std::string& room) {
  json_client.send_line(json{{"type", "join"}, {"room", room}}.dump());
  json reply = read_json(json_client);
  REQUIRE(reply["type"] == "joined");
}

// The history a JSON session was sent on joining: the msg frames among its
// pending frames, checked to be marked as history of `room`.
std::vector<json> history_sent(line_client& json_client, const std::string& room) {
  std::vector<json> messages;
  for (json& frame : frames_before_pong(json_client)) {
    if (frame["type"] != "msg") continue;
    INFO("frame " << frame.dump());
    CHECK(frame["history"] == true);
    CHECK(frame["room"] == room);
    messages.push_back(std::move(frame));
  }
  return messages;
}

std::vector<std::uint64_t> ids_of(const std::vector<json>& messages) {
  std::vector<std::uint64_t> ids;
  for (const json& m : messages) ids.push_back(m.at("id").get<std::uint64_t>());
  return ids;
}

std::vector<std::uint64_t> page_ids(line_client& json_client, const json& request) {
  json_client.send_line(request.dump());
  json page = read_json(json_client);
  INFO("page " << page.dump());
  REQUIRE(page["type"] == "history");
  std::vector<std::uint64_t> ids;
  for (const json& m : page["messages"]) ids.push_back(m.at("id").get<std::uint64_t>());
  return ids;
}

// What chat::server::server's constructor throws for `config`; fails the
// test if it throws nothing or something else.
std::string start_failure(const chat::server::config& config) {
  try {
    chat::server::server refused(config);
  } catch (const chat::store::store_error& e) {
    return e.what();
  }
  FAIL("the server started with data_dir " << config.data_dir);
  return {};
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("with a data dir, history outlives the server and ids carry on", "[persistence]") {
  data_dir dir;
  std::vector<std::uint64_t> lobby_ids, dev_ids;
  {
    test_server server(persistent(dir));
    line_client alice = join_json(server.port(), "alice");
    line_client bob = join_plain(server.port(), "bob");
    lines_before_pong(alice);
    lobby_ids = say_numbered(alice, 3, "lobby ");
    join_room(alice, "dev");
    dev_ids = say_numbered(alice, 2, "dev ");
    bob.send_line("/msg alice a direct message is kept nowhere");
    CHECK(read_json(alice)["type"] == "dm");
    server.stop();
  }

  test_server server(persistent(dir));
  line_client carol = join_json(server.port(), "carol");
  const auto lobby_history = history_sent(carol, "lobby");
  CHECK(ids_of(lobby_history) == lobby_ids);
  REQUIRE(lobby_history.size() == 3);
  CHECK(lobby_history[0]["from"] == "alice");
  CHECK(lobby_history[0]["text"] == "lobby 0");
  CHECK(lobby_history[0]["ts"].is_number_integer());

  line_client dave = join_plain(server.port(), "dave");
  CHECK(dave.read_line() == "[history] alice: lobby 0");
  CHECK(dave.read_line() == "[history] alice: lobby 1");
  CHECK(dave.read_line() == "[history] alice: lobby 2");
  dave.send_line("/join dev");
  CHECK(dave.read_line() == "* you joined dev with: dave");
  CHECK(dave.read_line() == "[history] [#dev] alice: dev 0");
  CHECK(dave.read_line() == "[history] [#dev] alice: dev 1");
  CHECK(lines_before_help(dave).empty());

  lines_before_pong(carol);
  join_room(carol, "dev");
  CHECK(ids_of(history_sent(carol, "dev")) == dev_ids);

  // New messages are numbered after the old ones and join them on disk.
  const auto new_ids = say_numbered(carol, 2, "after restart ");
  CHECK(new_ids[0] > dev_ids.back());
  CHECK(new_ids[0] > lobby_ids.back());
  auto expected = dev_ids;
  expected.insert(expected.end(), new_ids.begin(), new_ids.end());
  CHECK(page_ids(carol, {{"type", "history"}}) == expected);
}

TEST_CASE("after a restart, new ids are above every id handed out before", "[persistence]") {
  data_dir dir;
  std::uint64_t last_before = 0;
  SECTION("the last ones before the stop were direct messages") {
    test_server server(persistent(dir));
    line_client alice = join_json(server.port(), "alice");
    line_client bob = join_json(server.port(), "bob");
    lines_before_pong(alice);
    say_numbered(alice, 2, "kept ");
    for (int i = 0; i < 3; ++i) {
      alice.send_line(json{{"type", "dm"}, {"to", "bob"}, {"text", "dm"}, {"ref", i}}.dump());
      last_before = read_json(alice)["id"].get<std::uint64_t>();
    }
  }
  SECTION("history is 0, so no message was kept") {
    test_server server(persistent(dir, 0));
    line_client alice = join_json(server.port(), "alice");
    last_before = say_numbered(alice, 3, "not kept ").back();
  }
  REQUIRE(last_before > 0);

  // An id names one message: a client that saw one before the restart must
  // never see it name another after.
  test_server server(persistent(dir));
  line_client carol = join_json(server.port(), "carol");
  lines_before_pong(carol);
  CHECK(say_numbered(carol, 1, "after ")[0] > last_before);
}

TEST_CASE("with a data dir, history pages back past the in-memory ring", "[persistence]") {
  data_dir dir;
  std::vector<std::uint64_t> ids;
  {
    test_server server(persistent(dir, 5));
    line_client alice = join_json(server.port(), "alice");
    ids = say_numbered(alice, 30, "m");
    // Before the restart too: the page comes from the database.
    CHECK(page_ids(alice, {{"type", "history"}, {"limit", 200}}) == ids);
  }
  test_server server(persistent(dir, 5));
  line_client bob = join_json(server.port(), "bob");
  // Joining shows the ring's worth...
  CHECK(ids_of(history_sent(bob, "lobby")) == std::vector<std::uint64_t>(ids.end() - 5, ids.end()));
  // ...and paging reaches back to the first message.
  CHECK(page_ids(bob, {{"type", "history"}, {"limit", 200}}) == ids);
  CHECK(page_ids(bob, {{"type", "history"}, {"before", ids[10]}, {"limit", 4}}) ==
        std::vector<std::uint64_t>(ids.begin() + 6, ids.begin() + 10));
  CHECK(page_ids(bob, {{"type", "history"}, {"before", ids[0]}}).empty());
}

TEST_CASE("with a data dir, a room that empties comes back with its history", "[persistence]") {
  data_dir dir;
  test_server server(persistent(dir));
  line_client alice = join_json(server.port(), "alice");
  join_room(alice, "Dev");
  const auto ids = say_numbered(alice, 2, "before it emptied ");
  alice.send_line(R"({"type":"leave","room":"Dev"})");
  CHECK(read_json(alice) == json{{"type", "left"}, {"room", "Dev"}});
  alice.send_line(R"({"type":"rooms"})");
  CHECK(read_json(alice)["rooms"].size() == 1);  // the lobby alone

  // Room names are one name whatever their case: so is their history.
  line_client bob = join_plain(server.port(), "bob");
  bob.send_line("/join dev");
  CHECK(bob.read_line() == "* you joined dev with: bob");
  CHECK(bob.read_line() == "[history] [#dev] alice: before it emptied 0");
  CHECK(bob.read_line() == "[history] [#dev] alice: before it emptied 1");
  CHECK(lines_before_help(bob).empty());

  lines_before_pong(alice);
  join_room(alice, "DEV");
  CHECK(ids_of(history_sent(alice, "dev")) == ids);
}

TEST_CASE("a database file that is not a sound SQLite database stops the server at start",
          "[persistence]") {
  data_dir dir;
  const auto file = dir.path() / "history.sqlite3";

  SECTION("not a database at all") { write_file(file, std::string(8192, 'x')); }
  SECTION("a database with damaged pages") {
    {
      test_server server(persistent(dir));
      line_client alice = join_json(server.port(), "alice");
      say_numbered(alice, 300, std::string(200, 'p'));
    }
    const auto size = std::filesystem::file_size(file);
    REQUIRE(size > 3 * 4096);
    // Keep the header page, trample the rest.
    std::fstream database(file, std::ios::binary | std::ios::in | std::ios::out);
    database.seekp(4096);
    const std::string garbage(size - 4096, '\xA5');
    database.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    REQUIRE(database.good());
  }

  const std::string message = start_failure(persistent(dir));
  INFO("message: " << message);
  CHECK(message.find(file.string()) != std::string::npos);
  // Said in words an operator acts on.
  CHECK((message.find("corrupt") != std::string::npos ||
         message.find("not a SQLite database") != std::string::npos));
}

TEST_CASE("a data dir that cannot be made or written stops the server at start", "[persistence]") {
  data_dir dir;
  // Tests may run as root, whom permissions do not stop: a path through a
  // regular file cannot be a directory for anyone.
  const auto regular = dir.path() / "a-file";
  write_file(regular, "not a directory\n");

  SECTION("a directory below a regular file") {
    auto config = test_config();
    config.data_dir = (regular / "history").string();
    const std::string message = start_failure(config);
    INFO("message: " << message);
    CHECK(message.find(config.data_dir) != std::string::npos);
  }
  SECTION("a regular file as the directory") {
    auto config = test_config();
    config.data_dir = regular.string();
    const std::string message = start_failure(config);
    INFO("message: " << message);
    CHECK(message.find(config.data_dir) != std::string::npos);
    CHECK(message.find("not a directory") != std::string::npos);
  }
  SECTION("a directory where the database file should be") {
    std::filesystem::create_directory(dir.path() / "history.sqlite3");
    const std::string message = start_failure(persistent(dir));
    INFO("message: " << message);
    CHECK(message.find((dir.path() / "history.sqlite3").string()) != std::string::npos);
  }
}
