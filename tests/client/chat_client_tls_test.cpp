// chat-client --tls: the real binary against the real server's TLS port,
// with certificates from a throwaway CA, and each refusal in words a person
// can act on.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

#include "chat_session.hpp"
#include "support/chat_client_run.hpp"
#include "support/fake_server.hpp"
#include "support/piped_process.hpp"
#include "test_pki.hpp"
#include "test_server.hpp"

namespace {

using Catch::Contains;
using chat::test::next_line;
using chat::test::piped_process;
using chat::test::require_exit;
using chat::test::start_client;
using chat::test::test_pki;
using chat::test::test_server;
using chat::test::with_tls;

constexpr auto deadline = chat::test::client_deadline;

std::string on_localhost(std::uint16_t port) { return "localhost:" + std::to_string(port); }

// What a client that could not connect printed, once it has exited 1 as for
// any connection failure. Checks that it said so in one line, naming `address`.
std::string connect_failure(piped_process& client, const std::string& address) {
  require_exit(client, 1);
  const std::string& said = client.stderr_text();
  CHECK(std::count(said.begin(), said.end(), '\n') == 1);
  CHECK_THAT(said, Contains("cannot connect to " + address + ": "));
  return said;
}

}  // namespace

TEST_CASE("chat-client --tls --ca chats with a plain client in one room", "[chat-client][tls]") {
  test_pki pki;
  test_server server(with_tls(pki.issue("chat server")));
  auto bob = chat::test::join_plain(server.port(), "bob");
  auto alice = start_client(server.tls_port(), {"--host", "localhost", "--tls", "--ca",
                                                pki.ca_file(), "--user", "alice"});

  CHECK(next_line(alice) ==
        "* welcome alice, you are in lobby with: alice, bob (/help lists commands)");
  chat::test::expect_join(bob, "alice");
  // Her lines go out while the server's come in: a write and a read in
  // flight together on one TLS stream.
  constexpr int count = 100;
  for (int i = 1; i <= count; ++i) alice.write_stdin("line " + std::to_string(i) + "\n");
  bob.send_line("hi alice");
  for (int i = 1; i <= count; ++i) REQUIRE(bob.read_line() == "alice: line " + std::to_string(i));
  CHECK_THAT(next_line(alice), Catch::Matches(R"(\[\d\d:\d\d\] bob: hi alice)"));

  alice.close_stdin();
  require_exit(alice, 0);
  CHECK(alice.stderr_text().empty());
  CHECK(bob.read_line() == "* alice left lobby");
}

TEST_CASE("chat-client --tls refuses a certificate it cannot trust, saying why",
          "[chat-client][tls]") {
  test_pki pki;

  SECTION("signed by a CA the system's store does not hold") {
    test_server server(with_tls(pki.issue("chat server")));
    auto client = start_client(server.tls_port(), {"--host", "localhost", "--tls", "--user", "a"});
    CHECK_THAT(
        connect_failure(client, on_localhost(server.tls_port())),
        Contains("signed by an authority this client does not trust") && Contains("--ca FILE"));
  }
  SECTION("self-signed") {
    test_server server(with_tls(pki.self_signed("chat server")));
    auto client = start_client(
        server.tls_port(), {"--host", "localhost", "--tls", "--ca", pki.ca_file(), "--user", "a"});
    CHECK_THAT(connect_failure(client, on_localhost(server.tls_port())),
               Contains("the server's certificate is self-signed"));
  }
  SECTION("for another name") {
    test_server server(with_tls(pki.issue("elsewhere", {.dns_name = "elsewhere.example"})));
    auto client = start_client(
        server.tls_port(), {"--host", "localhost", "--tls", "--ca", pki.ca_file(), "--user", "a"});
    CHECK_THAT(connect_failure(client, on_localhost(server.tls_port())),
               Contains("the server's certificate is not for localhost"));
  }
  SECTION("for a name, when the client was given an address") {
    test_server server(with_tls(pki.issue("chat server")));
    auto client = start_client(
        server.tls_port(), {"--host", "127.0.0.1", "--tls", "--ca", pki.ca_file(), "--user", "a"});
    CHECK_THAT(connect_failure(client, "127.0.0.1:" + std::to_string(server.tls_port())),
               Contains("the server's certificate is not for 127.0.0.1"));
  }
  SECTION("expired") {
    test_server server(with_tls(pki.issue("old", {.expired = true})));
    auto client = start_client(
        server.tls_port(), {"--host", "localhost", "--tls", "--ca", pki.ca_file(), "--user", "a"});
    CHECK_THAT(connect_failure(client, on_localhost(server.tls_port())),
               Contains("the server's certificate has expired"));
  }
}

TEST_CASE("chat-client --tls --insecure takes a self-signed certificate and warns once",
          "[chat-client][tls]") {
  test_pki pki;
  test_server server(with_tls(pki.self_signed("chat server")));
  auto client = start_client(server.tls_port(), {"--tls", "--insecure", "--user", "alice"});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
  client.close_stdin();
  require_exit(client, 0);
  CHECK_THAT(client.stderr_text(),
             Catch::Matches("chat-client: warning: --insecure: [^\n]*127\\.0\\.0\\.1:" +
                            std::to_string(server.tls_port()) + "[^\n]*\n"));
}

TEST_CASE("chat-client --tls names the failed handshake", "[chat-client][tls]") {
  SECTION("with a server that speaks no TLS on that port") {
    test_pki pki;
    test_server server(with_tls(pki.issue("chat server")));
    auto client = start_client(
        server.port(), {"--host", "localhost", "--tls", "--ca", pki.ca_file(), "--user", "a"});
    CHECK_THAT(connect_failure(client, on_localhost(server.port())),
               Contains("TLS handshake") && Contains("TLS port?"));
  }
  SECTION("with a server that aborts it") {
    chat::test::fake_server fake;
    auto client = start_client(fake.port(), {"--host", "localhost", "--tls", "--user", "a"});
    auto peer = fake.accept(deadline);
    // A fatal handshake_failure alert, as a server sends that shares no
    // protocol version or cipher with the client.
    peer.send(std::string("\x15\x03\x03\x00\x02\x02\x28", 7));
    CHECK_THAT(connect_failure(client, on_localhost(fake.port())),
               Contains("the server refused the TLS handshake") && Contains("handshake failure"));
  }
}

TEST_CASE("chat-client --tls refuses a --ca file it cannot use before connecting",
          "[chat-client][tls]") {
  const std::uint16_t port = chat::test::closed_port();
  auto client = start_client(port, {"--tls", "--ca", "/nonexistent/ca.pem", "--user", "a"});
  require_exit(client, 1);
  CHECK_THAT(client.stderr_text(),
             Contains("cannot use --ca /nonexistent/ca.pem: No such file or directory"));
}
