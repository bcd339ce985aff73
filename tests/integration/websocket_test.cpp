// WebSocket on the HTTP port: browser-style clients in the same rooms as TCP
// clients, every way a client can break the protocol (each closing with its
// code), bad upgrade requests (each with its HTTP status), and the health
// endpoints beside /ws.

#include <catch2/catch.hpp>

#include <string>

#include "chat_session.hpp"
#include "test_server.hpp"
#include "websocket_client.hpp"

using namespace chat::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string upgrade_head =
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
const std::string good_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
const std::string version_13 = "Sec-WebSocket-Version: 13\r\n";

}  // namespace

TEST_CASE("websocket: a WebSocket client chats with plain and JSON TCP clients in one room",
          "[websocket]") {
  test_server server(with_http());
  REQUIRE(server.http_port() != 0);
  line_client plain = join_plain(server.port(), "bob");
  line_client json_client = join_json(server.port(), "carol");
  expect_join(plain, "carol");
  websocket_client web = join_websocket(server.http_port(), "alice");
  expect_join(plain, "alice");
  expect_join(json_client, "alice");

  web.send_text(R"({"type":"msg","text":"hello from a browser","ref":7})");
  const json ack = read_json(web);
  CHECK(ack["type"] == "ack");
  CHECK(ack["ref"] == 7);
  CHECK(plain.read_line() == "alice: hello from a browser");
  const json heard = read_json(json_client);
  CHECK(heard["from"] == "alice");
  CHECK(heard["text"] == "hello from a browser");

  plain.send_line("hi alice");
  const json from_plain = read_json(web);
  CHECK(from_plain["type"] == "msg");
  CHECK(from_plain["from"] == "bob");
  CHECK(from_plain["text"] == "hi alice");
}

TEST_CASE("websocket: the client speaks first, in JSON; plain text gets an error, not USER",
          "[websocket]") {
  test_server server(with_http());
  websocket_client web(server.http_port());
  web.send_text("alice");
  const json refused = read_json(web);
  CHECK(refused["type"] == "error");
  CHECK(refused["code"] == "bad-request");
  CHECK_THAT(refused["message"].get<std::string>(), Contains("JSON"));
  // The session is still there, waiting for a hello.
  web.send_text(R"({"type":"hello","user":"alice"})");
  CHECK(read_json(web)["type"] == "welcome");
}

TEST_CASE("websocket: a message in fragments, and a newline inside one, is one request",
          "[websocket]") {
  test_server server(with_http());
  line_client plain = join_plain(server.port(), "bob");
  websocket_client web = join_websocket(server.http_port(), "alice");
  expect_join(plain, "alice");
  web.send_fragmented(R"({"type":"msg","text":"in pieces","ref":1})", 5);
  CHECK(read_json(web)["type"] == "ack");
  CHECK(plain.read_line() == "alice: in pieces");
  // Pretty-printed JSON: its newlines are whitespace, not the end of a line.
  web.send_text("{\n  \"type\": \"msg\",\n  \"text\": \"pretty\"\n}");
  CHECK(plain.read_line() == "alice: pretty");
}

TEST_CASE("websocket: many messages to a slow reader arrive whole and in order", "[websocket]") {
  test_server server(with_http());
  line_client json_sender = join_json(server.port(), "bob");
  // A small receive buffer: the server's writes are cut short again and
  // again, inside frame headers and inside texts.
  websocket_client web = join_websocket(server.http_port(), "alice", {.receive_buffer = 4096});
  expect_join(json_sender, "alice");
  constexpr int count = 2000;
  const std::vector<std::uint64_t> ids = say_numbered(json_sender, count, std::string(150, 'x'));
  REQUIRE(ids.size() == count);
  for (int i = 0; i < count; ++i) {
    const json m = read_json(web);
    REQUIRE(m["type"] == "msg");
    REQUIRE(m["text"] == std::string(150, 'x') + std::to_string(i));
    REQUIRE(m["id"] == ids[static_cast<std::size_t>(i)]);
  }
}

TEST_CASE("websocket: the server answers a ping with its payload, and a close with a close",
          "[websocket]") {
  test_server server(with_http());
  line_client plain = join_plain(server.port(), "bob");
  raw_websocket raw(server.http_port());
  raw.send(masked_frame(0x89, "are you there"));
  const raw_frame pong = raw.read_frame();
  CHECK(pong.first_byte == 0x8A);
  CHECK(pong.payload == "are you there");

  raw.send(masked_frame(0x81, R"({"type":"hello","user":"alice"})"));
  CHECK(json::parse(raw.read_frame().payload)["type"] == "welcome");
  expect_join(plain, "alice");
  raw.send(masked_frame(0x88, std::string("\x03\xe8", 2) + "bye"));
  const raw_frame closed = raw.read_until_close();
  CHECK(closed.close_code() == 1000);
  // And alice has left the room.
  CHECK(plain.read_line() == "* alice left lobby");
}

TEST_CASE("websocket: a client breaking the protocol is closed with the matching code",
          "[websocket]") {
  auto config = with_http();
  config.max_line = 1024;
  test_server server(config);
  struct violation {
    const char* what;
    std::string bytes;
    std::uint16_t code;
  };
  const std::string unmasked_text = std::string("\x81\x02", 2) + "hi";
  const violation cases[] = {
      {"a binary frame", masked_frame(0x82, "binary"), 1003},
      {"text that is not UTF-8", masked_frame(0x81, "caf\xc3("), 1007},
      {"a message over --max-line", masked_frame(0x81, std::string(1025, 'x')), 1009},
      {"an unmasked frame", unmasked_text, 1002},
      {"a reserved bit", masked_frame(0xC1, "hi"), 1002},
      {"a continuation with no message", masked_frame(0x80, "hi"), 1002},
      {"an unknown opcode", masked_frame(0x83, "hi"), 1002},
      {"a fragmented ping", masked_frame(0x09, "hi"), 1002},
  };
  for (const violation& v : cases) {
    INFO(v.what);
    raw_websocket raw(server.http_port());
    raw.send(v.bytes);
    CHECK(raw.read_until_close().close_code() == v.code);
  }
  // Beast's client, which sends what the server then refuses.
  websocket_client web(server.http_port());
  web.send_binary("\x01\x02");
  CHECK(web.await_close().code == 1003);
}

TEST_CASE("websocket: bad upgrade requests get the HTTP status that says why", "[websocket]") {
  chat::server::config config = with_http();
  test_server server(config);
  const std::uint16_t port = server.http_port();
  struct request {
    const char* what;
    std::string text;
    unsigned status;
  };
  const request cases[] = {
      {"no key", upgrade_head + version_13 + "\r\n", 400},
      {"a key that is not 16 bytes",
       upgrade_head + version_13 + "Sec-WebSocket-Key: c2hvcnQ=\r\n\r\n", 400},
      {"an old version", upgrade_head + good_key + "Sec-WebSocket-Version: 8\r\n\r\n", 426},
      {"no Upgrade header", "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 426},
      {"POST", "POST /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", 405},
      {"an unknown path", "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404},
      {"another site's page",
       upgrade_head + good_key + version_13 + "Origin: http://evil.example\r\n\r\n", 403},
      {"a header too large",
       "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(9000, 'a') + "\r\n\r\n",
       431},
      {"not HTTP", "HELLO THERE\r\n\r\n", 400},
  };
  for (const request& r : cases) {
    INFO(r.what);
    CHECK(http_exchange(port, r.text).status == r.status);
  }
  const http_reply old_version =
      http_exchange(port, upgrade_head + good_key + "Sec-WebSocket-Version: 8\r\n\r\n");
  CHECK_THAT(old_version.head, Contains("Sec-WebSocket-Version: 13"));

  // The page's own origin is let in, and the accept key is RFC 6455's.
  const std::string same_origin =
      upgrade_head + good_key + version_13 + "Origin: http://127.0.0.1\r\n\r\n";
  line_client connection(port);
  connection.send_raw(same_origin);
  CHECK(connection.read_line() == "HTTP/1.1 101 Switching Protocols\r");
  std::string head;
  for (std::string line; (line = connection.read_line()) != "\r";) head += line + "\n";
  CHECK_THAT(head, Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r"));
}

TEST_CASE("websocket: --allowed-origin lets other pages in, and the subprotocol is agreed",
          "[websocket]") {
  chat::server::config config = with_http();
  config.allowed_origins = {"https://chat.example.com"};
  test_server server(config);
  websocket_client listed(server.http_port(),
                          {.origin = "https://chat.example.com", .subprotocol = "chat.v1"});
  CHECK(listed.subprotocol() == "chat.v1");
  CHECK_THROWS_WITH(websocket_client(server.http_port(), {.origin = "http://127.0.0.1"}),
                    Contains("refused (403)"));
  // No Origin: not a browser, let in; no subprotocol offered, none chosen.
  websocket_client tool(server.http_port());
  CHECK(tool.subprotocol().empty());
}

TEST_CASE("websocket: /healthz and /readyz answer on the HTTP port", "[websocket]") {
  test_server server(with_http());
  const http_reply health = http_get(server.http_port(), "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK_THAT(health.head, Contains("Content-Length: 3"));
  const http_reply ready = http_get(server.http_port(), "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");
  const http_reply head_only =
      http_exchange(server.http_port(), "HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(head_only.status == 200);
  CHECK(head_only.body.empty());
}

TEST_CASE("websocket: the web client is served at / under a policy that keeps it to this server",
          "[websocket]") {
  test_server server(with_http());
  const http_reply page = http_get(server.http_port(), "/");
  CHECK(page.status == 200);
  CHECK_THAT(page.head, Contains("Content-Type: text/html; charset=utf-8"));
  CHECK_THAT(page.head, Contains("Content-Security-Policy: default-src 'none'; script-src 'self'"));
  CHECK_THAT(page.head, Contains("connect-src 'self'"));
  CHECK_THAT(page.head, Contains("X-Content-Type-Options: nosniff"));
  CHECK_THAT(page.body, Contains("<!doctype html>"));
  CHECK_THAT(page.body, Contains("app.js"));
  CHECK(http_get(server.http_port(), "/index.html").body == page.body);

  const http_reply script = http_get(server.http_port(), "/app.js");
  CHECK(script.status == 200);
  CHECK_THAT(script.head, Contains("Content-Type: text/javascript; charset=utf-8"));
  const http_reply styles = http_get(server.http_port(), "/app.css");
  CHECK(styles.status == 200);
  CHECK_THAT(styles.head, Contains("Content-Type: text/css; charset=utf-8"));

  CHECK(http_get(server.http_port(), "/app.json").status == 404);
  const http_reply post = http_exchange(
      server.http_port(), "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
  CHECK(post.status == 405);
}

TEST_CASE("websocket: a client flooding pings without reading is answered in part, then served",
          "[websocket]") {
  test_server server(with_http());
  raw_websocket raw(server.http_port(), {.receive_buffer = 4096});
  // 100 000 pings of 125 bytes: their pongs, 12.7 MB, are far more than the
  // socket buffers between the two hold while this client reads nothing.
  const std::string ping = masked_frame(0x89, std::string(125, 'p'));
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += ping;
  constexpr int bursts = 100;
  for (int i = 0; i < bursts; ++i) raw.send(burst);
  raw.send(masked_frame(0x81, R"({"type":"hello","user":"alice"})"));
  int pongs = 0;
  for (;;) {
    const raw_frame frame = raw.read_frame();
    if (frame.opcode() == 0xA) {
      ++pongs;
      continue;
    }
    CHECK(json::parse(frame.payload)["type"] == "welcome");
    break;
  }
  // Pings that come together get one pong (the last one's), and at most one
  // pong waits for the socket: the rest are dropped, not queued.
  CHECK(pongs > 0);
  CHECK(pongs < bursts * 1000);
}
