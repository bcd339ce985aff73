// Every error a joined session can provoke, and that the session goes on
// after it: the bad frame is answered, dropped, and never reaches anyone.

#include <catch2/catch.hpp>

#include <string>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

constexpr std::size_t max_line = 64;

chat::server::config short_lines() {
  auto config = test_config();
  config.max_line = max_line;
  return config;
}

struct bad_input {
  const char* what;
  std::string line;
  const char* code;
};

}  // namespace

TEST_CASE("a JSON session gets each error as a JSON frame and stays usable", "[errors]") {
  test_server server(short_lines());
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  expect_join(alice, "bob");

  const bad_input inputs[] = {
      {"a line over max_line", std::string(max_line + 1, 'x'), "line-too-long"},
      {"invalid UTF-8", "{\"type\":\"msg\",\"text\":\"caf\xC3\"}", "bad-utf8"},
      {"not JSON", "hello", "bad-json"},
      {"JSON but not an object", R"(["msg"])", "bad-request"},
      {"an unknown type", R"({"type":"dance"})", "bad-request"},
      {"a msg without text", R"({"type":"msg"})", "bad-request"},
      {"a msg whose text is not a string", R"({"type":"msg","text":5})", "bad-request"},
      {"a msg with empty text", R"({"type":"msg","text":""})", "bad-request"},
      {"a msg whose text holds a line break", R"({"type":"msg","text":"a\nb"})", "bad-request"},
      {"a msg whose text holds ESC", R"({"type":"msg","text":"\u001b[2J"})", "bad-request"},
  };

  for (const bad_input& input : inputs) {
    INFO(input.what);
    alice.send_line(input.line);
    const json error = read_json(alice);
    CHECK(error.size() == 3);
    CHECK(error["type"] == "error");
    CHECK(error["code"] == input.code);
    CHECK(error["message"].is_string());

    alice.send_line(R"({"type":"msg","text":"still here","ref":1})");
    CHECK(read_json(alice)["type"] == "ack");
    CHECK(read_json(bob)["text"] == "still here");
  }
}

TEST_CASE("a plain session gets each error as a ! error line and stays usable", "[errors]") {
  test_server server(short_lines());
  line_client carol = join_plain(server.port(), "carol");
  line_client bob = join_json(server.port(), "bob");
  CHECK(carol.read_line() == "* bob joined lobby");

  const bad_input inputs[] = {
      {"a line over max_line", std::string(max_line + 1, 'x'), "line-too-long"},
      {"invalid UTF-8", "caf\xC3 au lait", "bad-utf8"},
      {"a lone continuation byte", "\x80", "bad-utf8"},
      {"an unknown command", "/dance", "unknown-command"},
      {"a message with a CR inside", "x\rmallory: fake", "bad-request"},
      {"a message with ESC", "\x1b[2J", "bad-request"},
  };
  for (const bad_input& input : inputs) {
    INFO(input.what);
    carol.send_line(input.line);
    const std::string error = carol.read_line();
    CHECK(error.starts_with("! error " + std::string(input.code) + ": "));

    carol.send_line("still here");
    CHECK(read_json(bob)["text"] == "still here");
    carol.send_line("/who");
    CHECK(carol.read_line() == "* users in lobby: bob, carol");
  }
}

TEST_CASE("max_line counts the bytes of a frame, LF and a CR before it excluded", "[errors]") {
  test_server server(short_lines());
  line_client carol = join_plain(server.port(), "carol");
  line_client bob = join_json(server.port(), "bob");
  CHECK(carol.read_line() == "* bob joined lobby");

  const std::string longest(max_line, 'y');
  carol.send_line(longest);
  CHECK(read_json(bob)["text"] == longest);
  carol.send_raw(longest + "\r\n");
  CHECK(read_json(bob)["text"] == longest);

  carol.send_raw(longest + "z\r\n");
  CHECK(carol.read_line().starts_with("! error line-too-long: "));
}

TEST_CASE("an oversized line arriving in many pieces is reported once and the next line is read",
          "[errors]") {
  test_server server(short_lines());
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  expect_join(alice, "bob");

  const std::string piece(50, 'p');
  for (int i = 0; i < 200; ++i) alice.send_raw(piece);
  // The LF that ends the long line and the next request share a write.
  alice.send_raw(frames({"", R"({"type":"msg","text":"after","ref":2})"}));

  CHECK(read_json(alice)["code"] == "line-too-long");
  const json delivered = read_json(bob);
  CHECK(delivered["text"] == "after");
  CHECK(read_json(alice) == json{{"type", "ack"}, {"ref", 2}, {"id", delivered["id"]}});
}

TEST_CASE("empty lines are no frames: ignored, not errors", "[errors]") {
  test_server server(short_lines());
  line_client alice = join_json(server.port(), "alice");
  line_client carol = join_plain(server.port(), "carol");
  expect_join(alice, "carol");

  alice.send_raw("\n\r\n\n{\"type\":\"ping\"}\r\n");
  CHECK(read_json(alice) == json{{"type", "pong"}});
  carol.send_raw("\n\r\n/who\n");
  CHECK(carol.read_line() == "* users in lobby: alice, carol");
}

TEST_CASE("frames after a bad one in the same read are still served", "[errors]") {
  test_server server(short_lines());
  line_client alice = join_json(server.port(), "alice");

  alice.send_raw(frames({"not json", R"({"type":"dance"})", R"({"type":"ping"})"}));
  CHECK(read_json(alice)["code"] == "bad-json");
  CHECK(read_json(alice)["code"] == "bad-request");
  CHECK(read_json(alice) == json{{"type", "pong"}});
}
