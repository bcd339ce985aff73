// WebSocket on the HTTP port, and over TLS on the HTTPS port: browser-style
// clients in the same rooms as TCP clients, every way a client can break the
// protocol (each closing with its code), bad upgrade requests (each with its
// HTTP status), and the health endpoints and the web client beside /ws. Each
// case runs over both ports (web_scene), since one transport serves both.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "chat_session.hpp"
#include "test_pki.hpp"
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

// A server with the HTTP port (ws) or the HTTPS port (wss) beside its TCP
// port; for wss its certificate is for localhost, signed by a fresh CA that
// the scene's clients trust.
struct web_scene {
  explicit web_scene(bool tls, chat::server::config config = test_config())
      : secure(tls),
        server(tls ? with_https(pki.issue("chat server"), std::move(config))
                   : with_http(std::move(config))) {}

  // The port the web clients use.
  std::uint16_t port() const { return secure ? server.https_port() : server.http_port(); }
  // The scheme of the pages this port serves, as their Origin names it.
  std::string scheme() const { return secure ? "https" : "http"; }
  std::optional<tls_client_options> tls() const {
    if (!secure) return std::nullopt;
    return tls_client_options{.ca_file = pki.ca_file()};
  }
  // `options` over this port.
  websocket_client_options ws(websocket_client_options options = {}) const {
    options.tls = tls();
    return options;
  }
  line_client_options over() const { return {.tls = tls()}; }

  websocket_client connect(websocket_client_options options = {}) const {
    return websocket_client(port(), ws(std::move(options)));
  }
  websocket_client join(const std::string& name, websocket_client_options options = {}) const {
    return join_websocket(port(), name, ws(std::move(options)));
  }
  raw_websocket raw(websocket_client_options options = {}) const {
    return raw_websocket(port(), ws(std::move(options)));
  }
  http_reply get(std::string_view path) const { return http_get(port(), path, over()); }
  http_reply exchange(std::string_view request) const {
    return http_exchange(port(), request, over());
  }

  const bool secure;
  test_pki pki;
  test_server server;
};

}  // namespace

// Every case below runs once over each port:
//   const bool over_tls = GENERATE(false, true);
//   CAPTURE(over_tls);
//   web_scene scene(over_tls);

TEST_CASE("websocket: a WebSocket client chats with plain and JSON TCP clients in one room",
          "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  REQUIRE(scene.port() != 0);
  REQUIRE(scene.port() != scene.server.port());
  line_client plain = join_plain(scene.server.port(), "bob");
  line_client json_client = join_json(scene.server.port(), "carol");
  expect_join(plain, "carol");
  websocket_client web = scene.join("alice");
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
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  websocket_client web = scene.connect();
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
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  line_client plain = join_plain(scene.server.port(), "bob");
  websocket_client web = scene.join("alice");
  expect_join(plain, "alice");
  web.send_fragmented(R"({"type":"msg","text":"in pieces","ref":1})", 5);
  CHECK(read_json(web)["type"] == "ack");
  CHECK(plain.read_line() == "alice: in pieces");
  // Pretty-printed JSON: its newlines are whitespace, not the end of a line.
  web.send_text("{\n  \"type\": \"msg\",\n  \"text\": \"pretty\"\n}");
  CHECK(plain.read_line() == "alice: pretty");
}

TEST_CASE("websocket: many messages to a slow reader arrive whole and in order", "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  line_client json_sender = join_json(scene.server.port(), "bob");
  // A small receive buffer: the server's writes are cut short again and
  // again, inside frame headers and inside texts (over TLS: its writes
  // would block, and are made again with the same bytes).
  websocket_client web = scene.join("alice", {.receive_buffer = 4096});
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
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  line_client plain = join_plain(scene.server.port(), "bob");
  raw_websocket raw = scene.raw();
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
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  auto config = test_config();
  config.max_line = 1024;
  web_scene scene(over_tls, config);
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
    raw_websocket raw = scene.raw();
    raw.send(v.bytes);
    CHECK(raw.read_until_close().close_code() == v.code);
  }
  // Beast's client, which sends what the server then refuses.
  websocket_client web = scene.connect();
  web.send_binary("\x01\x02");
  CHECK(web.await_close().code == 1003);
}

TEST_CASE("websocket: bad upgrade requests get the HTTP status that says why", "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
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
    CHECK(scene.exchange(r.text).status == r.status);
  }
  const http_reply old_version =
      scene.exchange(upgrade_head + good_key + "Sec-WebSocket-Version: 8\r\n\r\n");
  CHECK_THAT(old_version.head, Contains("Sec-WebSocket-Version: 13"));

  // A page of this host over the other scheme is another origin.
  const std::string other_scheme = over_tls ? "http" : "https";
  CHECK(scene
            .exchange(upgrade_head + good_key + version_13 + "Origin: " + other_scheme +
                      "://127.0.0.1\r\n\r\n")
            .status == 403);
  // The page's own origin is let in, and the accept key is RFC 6455's.
  const std::string same_origin =
      upgrade_head + good_key + version_13 + "Origin: " + scene.scheme() + "://127.0.0.1\r\n\r\n";
  line_client connection(scene.port(), scene.over());
  connection.send_raw(same_origin);
  CHECK(connection.read_line() == "HTTP/1.1 101 Switching Protocols\r");
  std::string head;
  for (std::string line; (line = connection.read_line()) != "\r";) head += line + "\n";
  CHECK_THAT(head, Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r"));
}

TEST_CASE("websocket: --allowed-origin lets other pages in, and the subprotocol is agreed",
          "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  chat::server::config config = test_config();
  config.allowed_origins = {"https://chat.example.com"};
  web_scene scene(over_tls, config);
  websocket_client listed =
      scene.connect({.origin = "https://chat.example.com", .subprotocol = "chat.v1"});
  CHECK(listed.subprotocol() == "chat.v1");
  CHECK_THROWS_WITH(scene.connect({.origin = scene.scheme() + "://127.0.0.1"}),
                    Contains("refused (403)"));
  // No Origin: not a browser, let in; no subprotocol offered, none chosen.
  websocket_client tool = scene.connect();
  CHECK(tool.subprotocol().empty());
}

TEST_CASE("websocket: /healthz and /readyz answer on the HTTP and HTTPS ports", "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  const http_reply health = scene.get("/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK_THAT(health.head, Contains("Content-Length: 3"));
  const http_reply ready = scene.get("/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");
  const http_reply head_only = scene.exchange("HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(head_only.status == 200);
  CHECK(head_only.body.empty());
}

TEST_CASE("websocket: the web client is served at / under a policy that keeps it to this server",
          "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  const http_reply page = scene.get("/");
  CHECK(page.status == 200);
  CHECK_THAT(page.head, Contains("Content-Type: text/html; charset=utf-8"));
  CHECK_THAT(page.head, Contains("Content-Security-Policy: default-src 'none'; script-src 'self'"));
  CHECK_THAT(page.head, Contains("connect-src 'self'"));
  CHECK_THAT(page.head, Contains("X-Content-Type-Options: nosniff"));
  CHECK_THAT(page.body, Contains("<!doctype html>"));
  CHECK_THAT(page.body, Contains("app.js"));
  CHECK(scene.get("/index.html").body == page.body);

  const http_reply script = scene.get("/app.js");
  CHECK(script.status == 200);
  CHECK_THAT(script.head, Contains("Content-Type: text/javascript; charset=utf-8"));
  const http_reply styles = scene.get("/app.css");
  CHECK(styles.status == 200);
  CHECK_THAT(styles.head, Contains("Content-Type: text/css; charset=utf-8"));

  CHECK(scene.get("/app.json").status == 404);
  const http_reply post =
      scene.exchange("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
  CHECK(post.status == 405);
}

TEST_CASE("websocket: a client flooding pings without reading is answered in part, then served",
          "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  raw_websocket raw = scene.raw({.receive_buffer = 4096});
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

TEST_CASE("websocket: frames sent with the upgrade request, before its 101, are read at once",
          "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  web_scene scene(over_tls);
  const std::string hello = masked_frame(0x81, R"({"type":"hello","user":"alice"})");
  SECTION("a hello") {
    raw_websocket raw(scene.port(), scene.ws(), hello);
    CHECK(json::parse(raw.read_frame().payload)["type"] == "welcome");
  }
  SECTION("more than the upgrade's read takes, in one TLS record") {
    // 20 pings of 125 bytes before the hello: past the 2 KiB the upgrade
    // reads, so that TLS holds the rest decrypted where the socket does not
    // announce it.
    std::string pings;
    for (int i = 0; i < 20; ++i) pings += masked_frame(0x89, std::string(125, 'p'));
    raw_websocket raw(scene.port(), scene.ws(), pings + hello);
    raw_frame frame = raw.read_frame();
    while (frame.opcode() == 0xA) frame = raw.read_frame();
    CHECK(json::parse(frame.payload)["type"] == "welcome");
  }
}

TEST_CASE("websocket: the HTTPS port serves wss with the TLS port's certificate, reloaded for both",
          "[websocket][tls]") {
  test_pki pki;
  const std::filesystem::path cert = pki.dir() / "server.crt";
  const std::filesystem::path key = pki.dir() / "server.key";
  const auto install = [&](const key_pair& pair) {
    const auto overwrite = std::filesystem::copy_options::overwrite_existing;
    std::filesystem::copy_file(pair.cert_file, cert, overwrite);
    std::filesystem::copy_file(pair.key_file, key, overwrite);
  };
  install(pki.issue("certificate A"));
  const key_pair installed{cert.string(), key.string()};
  test_server server(with_https(installed, with_http(with_tls(installed))));
  REQUIRE(server.https_port() != 0);
  REQUIRE(server.https_port() != server.http_port());
  REQUIRE(server.https_port() != server.tls_port());
  const tls_client_options trusting{.ca_file = pki.ca_file()};

  // The gauges are the process's: what this test opens is what they gain.
  const auto connections = [&](std::string_view transport) {
    const std::string body = http_get(server.https_port(), "/metrics", {.tls = trusting}).body;
    const std::string sample = "chat_connections{transport=\"" + std::string(transport) + "\"} ";
    const std::size_t at = body.find(sample);
    REQUIRE(at != std::string::npos);
    return std::stoll(body.substr(at + sample.size()));
  };
  const long long wss_before = connections("websocket-tls");
  const long long ws_before = connections("websocket");
  const long long tls_before = connections("tls");

  websocket_client alice = join_websocket(server.https_port(), "alice", {.tls = trusting});
  CHECK(alice.peer_common_name() == "certificate A");
  line_client bob = join_plain(server.tls_port(), "bob", {.tls = trusting});
  CHECK(bob.peer_common_name() == "certificate A");
  websocket_client carol = join_websocket(server.http_port(), "carol");
  CHECK(read_json(alice)["user"] == "bob");
  CHECK(read_json(alice)["user"] == "carol");
  expect_join(bob, "carol");

  // Each transport counted under its own name.
  CHECK(connections("websocket-tls") == wss_before + 1);
  CHECK(connections("websocket") == ws_before + 1);
  CHECK(connections("tls") == tls_before + 1);

  install(pki.issue("certificate B"));
  server.reload_certificates();
  // The reload is posted: new connections see B once it has run.
  std::string presented;
  const auto deadline = std::chrono::steady_clock::now() + default_timeout;
  while (
      (presented = websocket_client(server.https_port(), {.tls = trusting}).peer_common_name()) !=
          "certificate B" &&
      std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(presented == "certificate B");
  CHECK(line_client(server.tls_port(), {.tls = trusting}).peer_common_name() == "certificate B");

  // Those connected before stay, on certificate A.
  alice.send_text(R"({"type":"msg","text":"still here","ref":1})");
  CHECK(read_json(alice)["type"] == "ack");
  CHECK(bob.read_line() == "alice: still here");
  CHECK(read_json(carol)["text"] == "still here");
}

TEST_CASE("websocket: the HTTPS port answers no clear text, and times out a silent upgrade",
          "[websocket][tls]") {
  chat::server::config config = test_config();
  config.handshake_timeout = std::chrono::milliseconds(300);
  web_scene scene(true, config);
  // Plain HTTP to the HTTPS port: at most a TLS alert, never a response.
  line_client plain(scene.port());
  plain.send_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(plain.await_close().find("HTTP/1.1") == std::string::npos);
  // TLS done, then no request: the handshake deadline covers both.
  line_client silent(scene.port(), scene.over());
  CHECK(silent.await_close(std::chrono::seconds(3)).empty());
  // And the port still serves.
  CHECK(scene.get("/healthz").status == 200);
}

TEST_CASE(
    "websocket: pings while the server's writes wait for a reader are answered between "
    "messages",
    "[websocket]") {
  const bool over_tls = GENERATE(false, true);
  CAPTURE(over_tls);
  chat::server::config config = test_config();
  config.max_queue = 64 << 20;  // alice is slow, not a slow consumer
  web_scene scene(over_tls, config);
  line_client json_sender = join_json(scene.server.port(), "bob");
  raw_websocket raw = scene.raw({.receive_buffer = 4096});
  raw.send(masked_frame(0x81, R"({"type":"hello","user":"alice"})"));
  REQUIRE(json::parse(raw.read_frame().payload)["type"] == "welcome");
  expect_join(json_sender, "alice");
  // Far more than the socket buffers hold: the server's writes to alice
  // wait (over TLS, a write OpenSSL must be given again as it was) while
  // her pings come in.
  constexpr int count = 4000;
  const std::string text(1000, 'x');
  const std::vector<std::uint64_t> ids = say_numbered(json_sender, count, text);
  REQUIRE(ids.size() == count);
  for (int i = 0; i < 20; ++i) raw.send(masked_frame(0x89, "ping " + std::to_string(i)));
  int messages = 0;
  int pongs = 0;
  while (messages < count) {
    const raw_frame frame = raw.read_frame();
    if (frame.opcode() == 0xA) {
      CHECK_THAT(frame.payload, StartsWith("ping "));
      ++pongs;
      continue;
    }
    REQUIRE(frame.first_byte == 0x81);
    const json m = json::parse(frame.payload);
    REQUIRE(m["text"] == text + std::to_string(messages));
    REQUIRE(m["id"] == ids[static_cast<std::size_t>(messages)]);
    ++messages;
  }
  // A pong may still be on its way: one more ping is answered at once.
  raw.send(masked_frame(0x89, "last"));
  for (raw_frame frame = raw.read_frame();; frame = raw.read_frame()) {
    if (frame.opcode() == 0xA && frame.payload == "last") break;
    REQUIRE(frame.opcode() == 0xA);
    ++pongs;
  }
  CHECK(pongs >= 1);
  raw.send(masked_frame(0x88, std::string("\x03\xe8", 2)));
  CHECK(raw.read_until_close().close_code() == 1000);
}
