// TLS: plain and TLS clients in the same rooms, the hostile cases a TLS port
// meets, and the certificate swapped on SIGHUP while clients stay.

#include <signal.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "child_process.hpp"
#include "test_pki.hpp"
#include "test_server.hpp"
#include "websocket_client.hpp"

using namespace chat::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

using clock = std::chrono::steady_clock;

const std::string chat_server = CHAT_SERVER_BINARY;

// A server with a plain and a TLS port, its certificate for localhost signed
// by a fresh CA that the scene's TLS clients trust.
struct tls_scene {
  explicit tls_scene(chat::server::config config = test_config())
      : server(with_tls(pki.issue("chat server"), std::move(config))) {}

  line_client_options tls() const { return {.tls = tls_client_options{.ca_file = pki.ca_file()}}; }
  line_client connect_tls() const { return line_client(server.tls_port(), tls()); }
  // A TCP connection to the TLS port that has not begun a handshake.
  line_client connect_raw() const { return line_client(server.tls_port()); }

  test_pki pki;
  test_server server;
};

// A message each way between a JSON and a plain session: both still chat.
void expect_chatting(line_client& json_client, line_client& plain_client,
                     const std::string& json_name, const std::string& plain_name) {
  json_client.send_line(R"({"type":"msg","text":"still here?","ref":1})");
  CHECK(read_json(json_client)["type"] == "ack");
  CHECK(plain_client.read_line() == json_name + ": still here?");
  plain_client.send_line("yes");
  const json heard = read_json(json_client);
  CHECK(heard["from"] == plain_name);
  CHECK(heard["text"] == "yes");
}

// The first bytes of a TLS 1.2 ClientHello record: a handshake that stops there.
const std::string unfinished_client_hello("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", 11);

}  // namespace

TEST_CASE("TLS and plain clients meet in one room, in both wire forms", "[tls]") {
  tls_scene scene;
  const std::uint16_t plain = scene.server.port();
  const std::uint16_t tls = scene.server.tls_port();
  REQUIRE(tls != 0);
  REQUIRE(tls != plain);

  line_client alice = join_json(tls, "alice", scene.tls());
  line_client bob = join_plain(tls, "bob", scene.tls());
  line_client carol = join_json(plain, "carol");
  line_client dave = join_plain(plain, "dave");
  expect_join(alice, "bob");
  expect_join(alice, "carol");
  expect_join(alice, "dave");
  expect_join(bob, "carol");
  expect_join(bob, "dave");
  expect_join(carol, "dave");

  SECTION("from TLS to both") {
    alice.send_line(R"({"type":"msg","text":"over TLS","ref":1})");
    CHECK(read_json(alice)["type"] == "ack");
    CHECK(bob.read_line() == "alice: over TLS");
    CHECK(read_json(carol)["text"] == "over TLS");
    CHECK(dave.read_line() == "alice: over TLS");
  }
  SECTION("from plain TCP to both") {
    dave.send_line("over TCP");
    CHECK(read_json(alice)["text"] == "over TCP");
    CHECK(bob.read_line() == "dave: over TCP");
    CHECK(read_json(carol)["text"] == "over TCP");
  }
  SECTION("a long burst over TLS arrives whole and in order") {
    // Many records, and more than one read's worth: nothing may stay
    // decrypted inside OpenSSL while the reader waits on the socket.
    std::string burst;
    for (int i = 0; i < 2000; ++i) burst += "line " + std::to_string(i) + '\n';
    bob.send_raw(burst);
    for (int i = 0; i < 2000; ++i) {
      REQUIRE(dave.read_line() == "bob: line " + std::to_string(i));
    }
  }
}

TEST_CASE("the TLS port presents the configured certificate, which a client can verify", "[tls]") {
  tls_scene scene;
  line_client client = scene.connect_tls();
  CHECK(client.peer_common_name() == "chat server");
  CHECK(client.read_line() == "USER");

  const test_pki other;
  CHECK_THROWS_WITH(
      line_client(scene.server.tls_port(), {.tls = tls_client_options{.ca_file = other.ca_file()}}),
      Contains("certificate verify failed"));
}

TEST_CASE("hostile bytes on the TLS port close that connection and no other", "[tls]") {
  tls_scene scene;
  line_client alice = join_json(scene.server.tls_port(), "alice", scene.tls());
  line_client bob = join_plain(scene.server.port(), "bob");
  expect_join(alice, "bob");

  SECTION("plain text instead of a ClientHello") {
    line_client plain = scene.connect_raw();
    plain.send_line("carol");
    const std::string reply = plain.await_close();
    // At most a TLS alert: never the prompt or a welcome in clear text.
    CHECK(reply.find("USER") == std::string::npos);
    CHECK(reply.find("welcome") == std::string::npos);
  }
  SECTION("a client that offers only TLS 1.0 and 1.1") {
    line_client_options legacy = scene.tls();
    legacy.tls->legacy_versions_only = true;
    // The server's alert, not the client's own refusal to offer them.
    CHECK_THROWS_WITH(line_client(scene.server.tls_port(), legacy),
                      Contains("alert protocol version"));
  }
  SECTION("garbage beneath TLS after the handshake") {
    line_client mallory = join_plain(scene.server.tls_port(), "mallory", scene.tls());
    expect_join(alice, "mallory");
    CHECK(bob.read_line() == "* mallory joined lobby");
    mallory.send_beneath_tls(std::string(64, '\x17'));
    mallory.await_close();
    CHECK(read_json(alice) == json{{"type", "leave"}, {"room", "lobby"}, {"user", "mallory"}});
    CHECK(bob.read_line() == "* mallory left lobby");
  }
  expect_chatting(alice, bob, "alice", "bob");
}

TEST_CASE("a full server closes a TLS connection without clear text; the plain port says why",
          "[tls]") {
  chat::server::config config = test_config();
  config.max_clients = 1;
  tls_scene scene(config);
  line_client alice = join_plain(scene.server.tls_port(), "alice", scene.tls());

  line_client refused = scene.connect_raw();
  CHECK(refused.await_close().empty());
  CHECK_THROWS(scene.connect_tls());
  line_client plain = scene.server.connect();
  CHECK(plain.read_line() == "! error server-full: the server is full; try later");
}

TEST_CASE("a handshake that stops halfway is closed at the handshake timeout", "[tls]") {
  chat::server::config config = test_config();
  config.handshake_timeout = 300ms;
  tls_scene scene(config);

  line_client silent = scene.connect_raw();
  line_client halfway = scene.connect_raw();
  halfway.send_raw(unfinished_client_hello);
  const auto began = clock::now();
  silent.await_close(3s);
  halfway.await_close(3s);
  CHECK(clock::now() - began >= 250ms);

  // The TLS handshake counts against the timeout, not beside it: a client
  // that completes it must still log in within what is left.
  line_client late = scene.connect_tls();
  CHECK(late.read_line() == "USER");
  CHECK(late.read_until_eof(3s).size() == 1);  // the error saying why
}

TEST_CASE("2000 half-open TLS handshakes cost the chatting clients nothing and are all closed",
          "[tls]") {
  chat::server::config config = test_config();
  config.handshake_timeout = 1s;
  tls_scene scene(config);
  line_client alice = join_json(scene.server.tls_port(), "alice", scene.tls());
  line_client bob = join_plain(scene.server.port(), "bob");
  expect_join(alice, "bob");

  std::vector<line_client> half_open;
  half_open.reserve(2000);
  for (int i = 0; i < 2000; ++i) {
    half_open.push_back(scene.connect_raw());
    if (i % 2 == 0) half_open.back().send_raw(unfinished_client_hello);
  }
  // While they hang, the others chat, and a new TLS client gets in.
  expect_chatting(alice, bob, "alice", "bob");
  line_client carol = join_plain(scene.server.tls_port(), "carol", scene.tls());
  CHECK(bob.read_line() == "* carol joined lobby");
  expect_join(alice, "carol");

  for (line_client& client : half_open) client.await_close(10s);
  expect_chatting(alice, bob, "alice", "bob");
}

namespace {

// Reads the log up to and including the first line containing `text`, and
// returns all it read.
std::string read_log_until(child_process& server, std::string_view text) {
  std::string read;
  for (;;) {
    const std::string line = server.read_line();
    read += line + '\n';
    if (line.find(text) != std::string::npos) return read;
  }
}

// The port announced in `log` as "listening (`kind`) on", 0 if none.
std::uint16_t port_in(const std::string& log, const std::string& kind) {
  const std::regex listening(R"(listening \()" + kind + R"(\) on 127\.0\.0\.1:(\d+))");
  std::smatch match;
  if (!std::regex_search(log, match, listening)) return 0;
  return static_cast<std::uint16_t>(std::stoi(match[1]));
}

std::uint16_t tls_port_in(const std::string& log) { return port_in(log, "tls"); }

// Puts `pair` where the server reads its certificate and key.
void install(const key_pair& pair, const std::filesystem::path& cert,
             const std::filesystem::path& key) {
  const auto overwrite = std::filesystem::copy_options::overwrite_existing;
  std::filesystem::copy_file(pair.cert_file, cert, overwrite);
  std::filesystem::copy_file(pair.key_file, key, overwrite);
}

}  // namespace

TEST_CASE("chat-server on SIGHUP swaps certificate A for B and keeps everyone connected",
          "[tls][chat-server]") {
  test_pki pki;
  const std::filesystem::path cert = pki.dir() / "server.crt";
  const std::filesystem::path key = pki.dir() / "server.key";
  install(pki.issue("certificate A"), cert, key);
  // The HTTPS port presents the same certificate, and is reloaded with it.
  child_process server(
      chat_server, {"--port", "0", "--tls-port", "0", "--https-port", "0", "--cert", cert.string(),
                    "--key", key.string(), "--rate-limit", "0"});
  const std::string log = read_log_until(server, "listening (https)");
  const std::uint16_t port = tls_port_in(log);
  const std::uint16_t https_port = port_in(log, "https");
  REQUIRE(port != 0);
  REQUIRE(https_port != 0);
  const line_client_options tls{.tls = tls_client_options{.ca_file = pki.ca_file()}};
  const websocket_client_options wss{.tls = tls.tls};

  line_client alice = join_json(port, "alice", tls);
  CHECK(alice.peer_common_name() == "certificate A");
  websocket_client web = join_websocket(https_port, "web", wss);
  CHECK(web.peer_common_name() == "certificate A");
  expect_join(alice, "web");

  install(pki.issue("certificate B"), cert, key);
  server.send_signal(SIGHUP);
  read_log_until(server, "TLS certificate reloaded");
  line_client bob = join_plain(port, "bob", tls);
  CHECK(bob.peer_common_name() == "certificate B");
  CHECK(websocket_client(https_port, wss).peer_common_name() == "certificate B");
  expect_join(alice, "bob");
  CHECK(read_json(web)["user"] == "bob");
  expect_chatting(alice, bob, "alice", "bob");
  // The WebSocket from before the reload chats on, on certificate A.
  CHECK(read_json(web)["text"] == "still here?");
  CHECK(read_json(web)["text"] == "yes");

  SECTION("a bad pair on SIGHUP keeps B, and says why in one line") {
    std::filesystem::copy_file(pki.issue("certificate C").key_file, key,
                               std::filesystem::copy_options::overwrite_existing);
    server.send_signal(SIGHUP);
    const std::string line = read_log_until(server, "not reloaded");
    CHECK_THAT(line, Contains(cert.string()) || Contains(key.string()));
    CHECK(line_client(port, tls).peer_common_name() == "certificate B");
    CHECK(websocket_client(https_port, wss).peer_common_name() == "certificate B");
    expect_chatting(alice, bob, "alice", "bob");
  }
}

TEST_CASE("chat-server refuses an unusable certificate or key at start: one line, exit 2",
          "[tls][chat-server]") {
  test_pki pki;
  const key_pair good = pki.issue("good");
  const key_pair other = pki.issue("other");
  const std::string missing = (pki.dir() / "missing.pem").string();
  const std::string not_pem = (pki.dir() / "not.pem").string();
  std::filesystem::copy_file(CHAT_SERVER_BINARY, not_pem);  // unreadable as PEM

  struct bad_case {
    const char* what;
    std::string cert;
    std::string key;
    std::string named;
  };
  const std::vector<bad_case> cases{
      {"missing certificate", missing, good.key_file, missing},
      {"missing key", good.cert_file, missing, missing},
      {"certificate that is not PEM", not_pem, good.key_file, not_pem},
      {"key that does not match", good.cert_file, other.key_file, other.key_file},
  };
  for (const bad_case& bad : cases) {
    INFO(bad.what);
    child_process server(chat_server,
                         {"--port", "0", "--tls-port", "0", "--cert", bad.cert, "--key", bad.key});
    CHECK(server.wait() == 2);
    const std::string& output = server.output();
    INFO("output: " << output);
    CHECK(output.find(bad.named) != std::string::npos);
    // One line, no stack trace, no "terminate called".
    CHECK(std::count(output.begin(), output.end(), '\n') == 1);
  }
}

TEST_CASE("chat-server with an expired certificate warns and serves", "[tls][chat-server]") {
  test_pki pki;
  const key_pair expired = pki.issue("expired", {.expired = true});
  child_process server(chat_server, {"--port", "0", "--tls-port", "0", "--cert", expired.cert_file,
                                     "--key", expired.key_file});
  const std::string log = read_log_until(server, "listening (tls)");
  CHECK_THAT(log, Contains("expired"));
  const std::uint16_t port = tls_port_in(log);
  REQUIRE(port != 0);
  // A client that verifies refuses it; one that does not can chat.
  CHECK_THROWS_WITH(line_client(port, {.tls = tls_client_options{.ca_file = pki.ca_file()}}),
                    Contains("certificate has expired"));
  line_client unverified(port, {.tls = tls_client_options{}});
  CHECK(unverified.read_line() == "USER");
}

TEST_CASE("chat-server --tls-port needs --cert and --key", "[tls][chat-server]") {
  child_process server(chat_server, {"--port", "0", "--tls-port", "0"});
  CHECK(server.wait() == 2);
  CHECK_THAT(server.output(), Contains("--cert"));
}
