// The handshake: USER prompt, a plain name or a JSON hello, the welcome, the
// join seen by others, and every way a first frame can be refused.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

TEST_CASE("a connection is greeted with the USER prompt", "[handshake]") {
  test_server server;
  line_client client = server.connect();
  CHECK(client.read_line() == "USER");
}

TEST_CASE("a JSON hello gets a JSON welcome listing the room, newcomer included, in byte order",
          "[handshake]") {
  test_server server;
  line_client bob = join_json(server.port(), "bob");
  line_client zed = join_json(server.port(), "Zed");
  CHECK(read_json(bob) == json{{"type", "join"}, {"room", "lobby"}, {"user", "Zed"}});

  line_client alice = server.connect();
  expect_prompt(alice);
  alice.send_line(R"({"type":"hello","user":"alice"})");
  CHECK(read_json(alice) == json{{"type", "welcome"},
                                 {"user", "alice"},
                                 {"room", "lobby"},
                                 {"users", {"Zed", "alice", "bob"}}});

  CHECK(read_json(bob) == json{{"type", "join"}, {"room", "lobby"}, {"user", "alice"}});
  CHECK(read_json(zed) == json{{"type", "join"}, {"room", "lobby"}, {"user", "alice"}});
}

TEST_CASE("a plain name gets the readable welcome, and members see the join in their own form",
          "[handshake]") {
  test_server server;
  line_client ann = join_json(server.port(), "ann");
  line_client bob = join_plain(server.port(), "bob");
  CHECK(read_json(ann) == json{{"type", "join"}, {"room", "lobby"}, {"user", "bob"}});

  line_client carol = server.connect();
  expect_prompt(carol);
  carol.send_line("carol");
  CHECK(carol.read_line() ==
        "* welcome carol, you are in lobby with: ann, bob, carol (/help lists commands)");

  CHECK(read_json(ann) == json{{"type", "join"}, {"room", "lobby"}, {"user", "carol"}});
  CHECK(bob.read_line() == "* carol joined lobby");
}

TEST_CASE("a name sent with CRLF, as telnet does, is the name without the CR", "[handshake]") {
  test_server server;
  line_client carol = server.connect();
  expect_prompt(carol);
  carol.send_raw("carol\r\n");
  CHECK(carol.read_line() ==
        "* welcome carol, you are in lobby with: carol (/help lists commands)");
  carol.send_raw("/who\r\n");
  CHECK(carol.read_line() == "* users in lobby: carol");
}

TEST_CASE("empty lines before the name are ignored", "[handshake]") {
  test_server server;
  line_client dave = server.connect();
  expect_prompt(dave);
  dave.send_raw("\n\r\n\ndave\n");
  CHECK(dave.read_line().starts_with("* welcome dave,"));
}

TEST_CASE("a framing error before the name is reported and the handshake goes on", "[handshake]") {
  auto config = test_config();
  config.max_line = 64;
  test_server server(config);
  line_client client = server.connect();
  expect_prompt(client);

  SECTION("a line over max_line") {
    client.send_line(std::string(65, 'n'));
    CHECK(error_code_of(client.read_line()) == "line-too-long");
  }
  SECTION("invalid UTF-8") {
    client.send_line("caf\xC3");
    CHECK(error_code_of(client.read_line()) == "bad-utf8");
  }

  client.send_line("next");
  std::string answer = client.read_line();
  // Whether the prompt is repeated after a framing error is left open.
  if (answer == "USER") answer = client.read_line();
  CHECK(answer.starts_with("* welcome next,"));
}

TEST_CASE("the first one alone in the room is welcomed with just its own name", "[handshake]") {
  test_server server;
  line_client solo = server.connect();
  expect_prompt(solo);
  solo.send_line(R"({"type":"hello","user":"solo"})");
  CHECK(read_json(solo)["users"] == json{"solo"});
}

TEST_CASE("a taken name, in any case, gets name-taken and the prompt again", "[handshake]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");

  line_client other = server.connect();
  expect_prompt(other);

  SECTION("a plain name is refused in plain form") {
    other.send_line("ALICE");
    const std::string error = other.read_line();
    CHECK(error.starts_with("! error name-taken: "));
  }
  SECTION("a JSON hello is refused in JSON form") {
    other.send_line(R"({"type":"hello","user":"Alice"})");
    const json error = read_json(other);
    CHECK(error["type"] == "error");
    CHECK(error["code"] == "name-taken");
    CHECK(error["message"].is_string());
  }
  CHECK(other.read_line() == "USER");

  // The connection is still in its handshake: a free name now succeeds, and
  // the refused attempt was never announced to the room.
  other.send_line(R"({"type":"hello","user":"alice2"})");
  CHECK(read_json(other)["type"] == "welcome");
  CHECK(read_json(alice) == json{{"type", "join"}, {"room", "lobby"}, {"user", "alice2"}});
}

TEST_CASE("an invalid name gets bad-name and the prompt again", "[handshake]") {
  test_server server;
  line_client client = server.connect();
  expect_prompt(client);

  const std::vector<std::string> invalid_names = {"has space", "caf\xC3\xA9", std::string(33, 'n'),
                                                  "/who"};
  for (const std::string& name : invalid_names) {
    INFO("name " << name);
    client.send_line(name);
    CHECK(error_code_of(client.read_line()) == "bad-name");
    CHECK(client.read_line() == "USER");
  }

  client.send_line(R"({"type":"hello","user":"not ok"})");
  const json error = read_json(client);
  CHECK(error["type"] == "error");
  CHECK(error["code"] == "bad-name");
  CHECK(client.read_line() == "USER");

  // The longest valid name is fine.
  const std::string longest(32, 'n');
  client.send_line(longest);
  CHECK(client.read_line().starts_with("* welcome " + longest + ","));
}

TEST_CASE("a first frame that starts with { but is not a hello is refused in JSON form",
          "[handshake]") {
  test_server server;
  line_client client = server.connect();
  expect_prompt(client);

  SECTION("not JSON: bad-json") {
    client.send_line("{oops");
    CHECK(read_json(client)["code"] == "bad-json");
  }
  SECTION("JSON but not a hello: bad-request") {
    client.send_line(R"({"type":"msg","text":"hi"})");
    CHECK(read_json(client)["code"] == "bad-request");
  }
  SECTION("a hello without a string user: bad-request") {
    client.send_line(R"({"type":"hello","user":42})");
    CHECK(read_json(client)["code"] == "bad-request");
  }
  CHECK(client.read_line() == "USER");
  client.send_line("fine");
  CHECK(client.read_line().starts_with("* welcome fine,"));
}

TEST_CASE("a handshake not finished in time gets error timeout and is closed", "[handshake]") {
  auto config = test_config();
  config.handshake_timeout = 300ms;
  test_server server(config);
  // Someone already in: the handshake deadline must not touch it.
  line_client member = join_json(server.port(), "member");

  const auto started = std::chrono::steady_clock::now();
  line_client silent = server.connect();
  line_client partial = server.connect();
  line_client fumbling = server.connect();
  expect_prompt(silent);
  expect_prompt(partial);
  expect_prompt(fumbling);

  // Half a name, never finished.
  partial.send_raw("half");
  // Activity that does not finish the handshake does not extend it.
  fumbling.send_line("bad name");
  CHECK(error_code_of(fumbling.read_line()) == "bad-name");
  CHECK(fumbling.read_line() == "USER");

  for (line_client* client : {&silent, &partial, &fumbling}) {
    const std::vector<std::string> last_words = client->read_until_eof();
    REQUIRE(last_words.size() == 1);
    CHECK(error_code_of(last_words[0]) == "timeout");
  }
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);

  member.send_line(R"({"type":"ping"})");
  CHECK(read_json(member) == json{{"type", "pong"}});
}

TEST_CASE("a completed handshake is not timed out later", "[handshake]") {
  auto config = test_config();
  config.handshake_timeout = 200ms;
  test_server server(config);
  line_client early = join_plain(server.port(), "early");

  // Outlive the deadline of `early` by waiting for a later one to expire.
  line_client late = server.connect();
  expect_prompt(late);
  CHECK(error_code_of(late.read_line()) == "timeout");

  early.send_line("/who");
  CHECK(early.read_line() == "* users in lobby: early");
}
