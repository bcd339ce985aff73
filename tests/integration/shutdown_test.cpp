// server::stop(): stop accepting, tell every client, flush, close, return.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

TEST_CASE("stop() flushes what is queued, says goodbye in each form and closes everyone",
          "[shutdown]") {
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  line_client carol = join_plain(server.port(), "carol");
  line_client bob = join_json(server.port(), "bob");
  line_client greeted = server.connect();
  expect_prompt(greeted);

  // The ack shows the message was accepted, and so queued for alice and
  // carol, before the stop; neither has read anything since joining.
  bob.send_line(R"({"type":"msg","text":"last words","ref":0})");
  CHECK(read_json(bob)["type"] == "ack");

  const auto started = std::chrono::steady_clock::now();
  server.stop(5s);
  CHECK(std::chrono::steady_clock::now() - started < 5s);

  const std::vector<std::string> to_alice = alice.read_until_eof();
  REQUIRE(to_alice.size() == 4);
  CHECK(json::parse(to_alice[0])["type"] == "join");  // carol
  CHECK(json::parse(to_alice[1])["type"] == "join");  // bob
  CHECK(json::parse(to_alice[2])["text"] == "last words");
  CHECK(json::parse(to_alice[3]) == json{{"type", "shutdown"}});

  CHECK(carol.read_until_eof() == std::vector<std::string>{
                                      "* bob joined lobby",
                                      "bob: last words",
                                      "* server is shutting down",
                                  });
  CHECK(bob.read_until_eof() == std::vector<std::string>{R"({"type":"shutdown"})"});

  // Mid-handshake, the mode is not known yet: what matters is the close.
  greeted.read_until_eof();

  // Nobody is accepted any more.
  CHECK_THROWS(line_client(server.port()));
}

TEST_CASE("stop() finishes within 5 s even when a client has stopped reading", "[shutdown]") {
  auto config = test_config();
  // Large enough that the stalled client is not dropped as a slow consumer
  // first: at stop time the server still holds frames it cannot deliver.
  config.max_queue = 64 << 20;
  test_server server(config);
  line_client stalled = join_json(server.port(), "stalled", {.receive_buffer = 4096});
  line_client talker = join_json(server.port(), "talker");
  expect_join(stalled, "talker");

  // More than the socket buffers between server and stalled client can take.
  const std::string text(3800, 't');
  for (int i = 0; i < 1200; ++i) talker.send_line(json{{"type", "msg"}, {"text", text}}.dump());
  talker.send_line(R"({"type":"ping"})");
  CHECK(read_json(talker) == json{{"type", "pong"}});

  const auto started = std::chrono::steady_clock::now();
  server.stop(5s);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(talker.read_until_eof() == std::vector<std::string>{R"({"type":"shutdown"})"});
}
