// The chat-server program itself: its flags and its answer to SIGTERM.

#include <signal.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "chat_session.hpp"
#include "child_process.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

const std::string chat_server = CHAT_SERVER_BINARY;

}  // namespace

TEST_CASE("chat-server on SIGTERM or SIGINT says shutdown to its clients and exits 0 within 5 s",
          "[chat-server]") {
  const int stop_signal = GENERATE(SIGTERM, SIGINT);
  INFO("signal " << stop_signal);
  child_process server(chat_server, {"--port", "0"});
  const std::uint16_t port = await_listening(server);
  REQUIRE(port != 0);

  line_client alice = join_json(port, "alice");
  line_client carol = join_plain(port, "carol");
  expect_join(alice, "carol");

  const auto signalled = std::chrono::steady_clock::now();
  server.send_signal(stop_signal);

  CHECK(alice.read_until_eof() == std::vector<std::string>{R"({"type":"shutdown"})"});
  CHECK(carol.read_until_eof() == std::vector<std::string>{"* server is shutting down"});
  INFO("output: " << server.output());
  CHECK(server.wait(5s) == 0);
  CHECK(std::chrono::steady_clock::now() - signalled < 5s);
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
