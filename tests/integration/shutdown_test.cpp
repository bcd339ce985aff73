// server::stop(): stop accepting, tell every client, flush, close, return; and
// server::drain(), which tells everyone at once and closes them in turn.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "chat_session.hpp"
#include "test_pki.hpp"
#include "test_server.hpp"
#include "websocket_client.hpp"

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
  CHECK(json::parse(to_alice[3]) == json{{"type", "shutdown"}, {"reconnect", true}});

  CHECK(carol.read_until_eof() == std::vector<std::string>{
                                      "* bob joined lobby",
                                      "bob: last words",
                                      "* server is shutting down",
                                  });
  CHECK(bob.read_until_eof() ==
        std::vector<std::string>{R"({"type":"shutdown","reconnect":true})"});

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
  CHECK(talker.read_until_eof() ==
        std::vector<std::string>{R"({"type":"shutdown","reconnect":true})"});
}

TEST_CASE("drain(): clients on every transport are told at once, served, and closed in turn",
          "[shutdown][drain]") {
  test_pki pki;
  const key_pair certificate = pki.issue("chat server");
  chat::server::config config = with_https(certificate, with_http(with_tls(certificate)));
  config.drain = 2s;
  test_server server(config);
  const tls_client_options trusting{.ca_file = pki.ca_file()};
  line_client plain = join_plain(server.port(), "plain");
  line_client tcp_json = join_json(server.port(), "json");
  line_client tls = join_json(server.tls_port(), "tls", {.tls = trusting});
  websocket_client web = join_websocket(server.http_port(), "web");
  websocket_client wss = join_websocket(server.https_port(), "wss", {.tls = trusting});
  // Past the announcements of one another's arrival: each has read them all
  // before the drain, so that the notice is the next frame.
  expect_join(plain, "json");
  expect_join(plain, "tls");
  expect_join(plain, "web");
  expect_join(plain, "wss");
  expect_join(tcp_json, "tls");
  expect_join(tcp_json, "web");
  expect_join(tcp_json, "wss");
  expect_join(tls, "web");
  expect_join(tls, "wss");
  CHECK(read_json(web)["user"] == "wss");

  using clock = std::chrono::steady_clock;
  const auto began = clock::now();
  server.drain();
  const json notice = {{"type", "shutdown"}, {"reconnect", true}};
  CHECK(plain.read_line(1s) == "* server is shutting down");
  CHECK(read_json(tcp_json, 1s) == notice);
  CHECK(read_json(tls, 1s) == notice);
  CHECK(read_json(web, 1s) == notice);
  CHECK(read_json(wss, 1s) == notice);
  CHECK(clock::now() - began < 1s);

  // No one new comes in meanwhile; the load balancer is told, on both
  // HTTP ports.
  CHECK_THROWS(line_client(server.port()));
  CHECK_THROWS(line_client(server.tls_port()));
  CHECK(http_get(server.http_port(), "/readyz").status == 503);
  CHECK(http_get(server.http_port(), "/healthz").status == 200);
  CHECK_THROWS_WITH(websocket_client(server.http_port()), Catch::Contains("refused (503)"));
  CHECK(http_get(server.https_port(), "/readyz", {.tls = trusting}).status == 503);
  CHECK(http_get(server.https_port(), "/healthz", {.tls = trusting}).status == 200);
  CHECK_THROWS_WITH(websocket_client(server.https_port(), {.tls = trusting}),
                    Catch::Contains("refused (503)"));
  // Those told are still served until their turn.
  tcp_json.send_line(R"({"type":"ping"})");
  CHECK(read_json(tcp_json) == json{{"type", "pong"}});

  // Each read until the server closes it, at the same time, each timed.
  std::vector<clock::duration> closed(5);
  std::vector<std::thread> readers;
  readers.emplace_back([&] {
    plain.read_until_eof(5s);
    closed[0] = clock::now() - began;
  });
  readers.emplace_back([&] {
    tcp_json.read_until_eof(5s);
    closed[1] = clock::now() - began;
  });
  readers.emplace_back([&] {
    tls.read_until_eof(5s);
    closed[2] = clock::now() - began;
  });
  // Checked once the threads are joined: Catch2's assertions are not
  // thread-safe.
  std::uint16_t web_code = 0;
  std::uint16_t wss_code = 0;
  readers.emplace_back([&] {
    web_code = web.await_close(5s).code;
    closed[3] = clock::now() - began;
  });
  readers.emplace_back([&] {
    wss_code = wss.await_close(5s).code;
    closed[4] = clock::now() - began;
  });
  for (std::thread& t : readers) t.join();
  CHECK(web_code == 1000);
  CHECK(wss_code == 1000);
  std::sort(closed.begin(), closed.end());
  // Five clients over 2 s: one every 0.4 s or so, the last at the end.
  CHECK(closed.front() > 300ms);
  CHECK(closed[2] - closed[0] > 500ms);
  CHECK(closed.back() > 1500ms);
  CHECK(closed.back() < 4s);
  server.stop(5s);
}

TEST_CASE("POST /admin/drain drains with the right bearer token only", "[shutdown][drain]") {
  chat::server::config config = with_http();
  config.drain = 0s;
  config.admin_token = "correct-horse-battery";
  test_server server(config);
  const std::uint16_t port = server.http_port();
  line_client alice = join_json(server.port(), "alice");
  const auto post = [&](const std::string& authorization) {
    return http_exchange(port, "POST /admin/drain HTTP/1.1\r\nHost: 127.0.0.1\r\n" + authorization +
                                   "Content-Length: 0\r\n\r\n")
        .status;
  };
  CHECK(post("") == 401);
  CHECK(post("Authorization: Bearer correct-horse-batterx\r\n") == 401);
  CHECK(post("Authorization: Basic correct-horse-battery\r\n") == 401);
  CHECK(http_get(port, "/admin/drain").status == 405);
  CHECK(http_get(port, "/readyz").status == 200);
  // Nothing happened to alice meanwhile.
  alice.send_line(R"({"type":"ping"})");
  CHECK(read_json(alice) == json{{"type", "pong"}});

  CHECK(post("Authorization: Bearer correct-horse-battery\r\n") == 202);
  CHECK(read_json(alice) == json{{"type", "shutdown"}, {"reconnect", true}});
  alice.read_until_eof();
  server.stop(5s);
}

TEST_CASE("without --admin-token there is no /admin/drain", "[shutdown][drain]") {
  chat::server::config config = with_http();
  test_server server(config);
  CHECK(http_exchange(server.http_port(),
                      "POST /admin/drain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
            .status == 404);
}
