// The chat-server program itself: its flags and its answer to SIGTERM.

#include <signal.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "chat_session.hpp"
#include "child_process.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

const std::string chat_server = CHAT_SERVER_BINARY;

}  // namespace

TEST_CASE(
    "chat-server on SIGTERM or SIGINT drains: tells everyone at once, closes them over "
    "--drain-seconds, exits 0",
    "[chat-server][drain]") {
  const int stop_signal = GENERATE(SIGTERM, SIGINT);
  INFO("signal " << stop_signal);
  child_process server(chat_server, {"--port", "0", "--drain-seconds", "2"});
  const std::uint16_t port = await_listening(server);
  REQUIRE(port != 0);

  line_client alice = join_json(port, "alice");
  line_client carol = join_plain(port, "carol");
  expect_join(alice, "carol");

  const auto signalled = std::chrono::steady_clock::now();
  server.send_signal(stop_signal);
  CHECK(alice.read_line(1s) == R"({"type":"shutdown","reconnect":true})");
  CHECK(carol.read_line(1s) == "* server is shutting down");
  // Told, and still served until its turn to be closed.
  alice.send_line(R"({"type":"ping"})");
  CHECK(read_json(alice) == json{{"type", "pong"}});

  // One closed half way through the drain, the other at its end; the one
  // left sees the other leave.
  const auto only_leaves = [](const std::vector<std::string>& lines) {
    return std::all_of(lines.begin(), lines.end(), [](const std::string& line) {
      return line == "* alice left lobby" || line.find(R"("type":"leave")") != std::string::npos;
    });
  };
  CHECK(only_leaves(alice.read_until_eof(5s)));
  const auto first_closed = std::chrono::steady_clock::now() - signalled;
  CHECK(only_leaves(carol.read_until_eof(5s)));
  const auto second_closed = std::chrono::steady_clock::now() - signalled;
  INFO("output: " << server.output());
  CHECK(server.wait(5s) == 0);
  CHECK(std::min(first_closed, second_closed) > 500ms);
  CHECK(std::max(first_closed, second_closed) > 1500ms);
  CHECK(std::max(first_closed, second_closed) < 4s);
}

TEST_CASE("chat-server: a second SIGTERM ends a drain at once", "[chat-server][drain]") {
  child_process server(chat_server, {"--port", "0", "--drain-seconds", "60"});
  line_client alice = join_json(await_listening(server), "alice");
  server.send_signal(SIGTERM);
  CHECK(alice.read_line(1s) == R"({"type":"shutdown","reconnect":true})");
  const auto again = std::chrono::steady_clock::now();
  server.send_signal(SIGTERM);
  CHECK(alice.read_until_eof(3s).empty());
  INFO("output: " << server.output());
  CHECK(server.wait(3s) == 0);
  CHECK(std::chrono::steady_clock::now() - again < 3s);
}

TEST_CASE("chat-server refuses a port outside 1..65535, naming the value and the range",
          "[chat-server]") {
  for (const char* port : {"77777", "65536", "-1", "abc", "80x"}) {
    INFO("--port '" << port << "'");
    child_process server(chat_server, {"--port", port});
    const int status = server.wait();
    INFO("output: " << server.output());
    CHECK(status != 0);
    CHECK(status < 128);  // an orderly exit, not a crash
    CHECK(server.output().find(port) != std::string::npos);
    CHECK(server.output().find("65535") != std::string::npos);
  }
}

TEST_CASE("chat-server --help describes the flags and exits 0", "[chat-server]") {
  child_process server(chat_server, {"--help"});
  CHECK(server.wait() == 0);
  INFO("output: " << server.output());
  for (const char* flag : {"--host", "--port", "--threads", "--max-line", "--max-queue",
                           "--handshake-timeout", "--log-level", "--help"}) {
    CHECK(server.output().find(flag) != std::string::npos);
  }
}
