// Accounts: registering a name, logging in to it in both wire forms, who may
// not take it, throttled guessing, a second login, and what survives a restart.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "accounts_scene.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

json hello(const std::string& user, const std::string& password) {
  return {{"type", "hello"}, {"user", user}, {"password", password}};
}

// The first frame that is not a membership change of others.
json read_reply(line_client& client) {
  for (;;) {
    json frame = read_json(client);
    if (frame["type"] != "join" && frame["type"] != "leave") return frame;
  }
}

// The first address of this machine that is not loopback, if it has one.
std::optional<std::string> outside_address() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr) found = text;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace

TEST_CASE("a registered name is owned: guests cannot take it, in any case", "[accounts]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  register_json(server.port(), "alice", "correct horse").send_line(R"({"type":"quit"})");

  SECTION("JSON: the hello needs the password") {
    line_client guest = server.connect();
    expect_prompt(guest);
    guest.send_line(R"({"type":"hello","user":"ALICE"})");
    CHECK(read_json(guest)["code"] == "password-required");
    expect_prompt(guest);
    guest.send_line(hello("Alice", "correct horse").dump());
    const json welcome = read_json(guest);
    CHECK(welcome["type"] == "welcome");
    CHECK(welcome["user"] == "Alice");
  }
  SECTION("plain: PASS follows the name, and a wrong password starts over") {
    line_client guest = server.connect();
    expect_prompt(guest);
    guest.send_line("aLiCe");
    CHECK(guest.read_line() == "PASS");
    guest.send_line("wrong horse");
    CHECK(error_code_of(guest.read_line()) == "auth-failed");
    expect_prompt(guest);
  }
  SECTION("nick: no guest renames itself to it") {
    line_client bob = join_plain(server.port(), "bob");
    bob.send_line("/nick ALICE");
    CHECK(error_code_of(bob.read_line()) == "name-taken");
  }
}

TEST_CASE("plain: register, then log in with the name and PASS", "[accounts]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  {
    line_client carol = join_plain(server.port(), "carol");
    carol.send_line("/register pass word 1");
    CHECK(carol.read_line() == "* carol is registered: log in with its password from now on");
    carol.send_line("/quit");
  }
  line_client carol = server.connect();
  expect_prompt(carol);
  carol.send_line("carol");
  CHECK(carol.read_line() == "PASS");
  carol.send_line("pass word 1");
  CHECK(carol.read_line().starts_with("* welcome carol"));
}

TEST_CASE("a wrong password is throttled, then the right one works", "[accounts]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  register_json(server.port(), "dora", "open sesame").send_line(R"({"type":"quit"})");

  line_client dora = server.connect();
  expect_prompt(dora);
  dora.send_line(hello("dora", "closed sesame").dump());
  CHECK(read_json(dora)["code"] == "auth-failed");
  expect_prompt(dora);
  // Even the right password waits out the delay the failure set.
  dora.send_line(hello("dora", "open sesame").dump());
  const json refused = read_json(dora);
  INFO(refused.dump());
  CHECK(refused["code"] == "rate-limited");
  REQUIRE(refused["retry_after"].is_number_unsigned());
  const auto retry_after = refused["retry_after"].get<unsigned>();
  CHECK(retry_after >= 1);
  expect_prompt(dora);

  std::this_thread::sleep_for(std::chrono::seconds(retry_after));
  dora.send_line(hello("dora", "open sesame").dump());
  CHECK(read_json(dora)["type"] == "welcome");
}

TEST_CASE("an unknown name with a password fails as a wrong password does", "[accounts]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  line_client client = server.connect();
  expect_prompt(client);
  client.send_line(hello("nobody", "whatever it is").dump());
  CHECK(read_json(client)["code"] == "auth-failed");
}

TEST_CASE("a second login to an account takes the name over", "[accounts]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  line_client watcher = join_json(server.port(), "watcher");
  line_client first = register_json(server.port(), "erin", "first and only");
  CHECK(read_json(watcher) == json{{"type", "join"}, {"room", "lobby"}, {"user", "erin"}});

  line_client second = server.connect();
  expect_prompt(second);
  second.send_line(hello("erin", "first and only").dump());
  CHECK(read_json(second)["type"] == "welcome");

  // The older session is told why, then closed.
  CHECK(read_reply(first)["code"] == "session-replaced");
  first.await_close();
  // The room saw erin leave and come back, once.
  CHECK(read_json(watcher) == json{{"type", "leave"}, {"room", "lobby"}, {"user", "erin"}});
  CHECK(read_json(watcher) == json{{"type", "join"}, {"room", "lobby"}, {"user", "erin"}});
  second.send_line(R"({"type":"msg","text":"still me"})");
  CHECK(read_json(watcher)["text"] == "still me");
}

TEST_CASE("accounts outlive a restart", "[accounts]") {
  data_dir dir;
  {
    test_server server(with_accounts(dir));
    register_json(server.port(), "frank", "kept on disk").send_line(R"({"type":"quit"})");
    server.stop();
  }
  test_server server(with_accounts(dir));
  line_client guest = server.connect();
  expect_prompt(guest);
  guest.send_line(R"({"type":"hello","user":"frank"})");
  CHECK(read_json(guest)["code"] == "password-required");
  expect_prompt(guest);
  guest.send_line(hello("frank", "kept on disk").dump());
  CHECK(read_json(guest)["type"] == "welcome");
}

TEST_CASE("password changes and unregistering", "[accounts]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  line_client gina = register_json(server.port(), "gina", "old password");

  gina.send_line(R"({"type":"password","old":"old password","new":"short"})");
  CHECK(read_reply(gina)["code"] == "bad-password");
  gina.send_line(R"({"type":"password","old":"old password","new":"new password"})");
  CHECK(read_reply(gina) == json{{"type", "password-changed"}, {"user", "gina"}});
  gina.send_line(R"({"type":"unregister","password":"old password"})");
  CHECK(read_reply(gina)["code"] == "auth-failed");
  // A wrong password here is throttled as a login's is.
  gina.send_line(R"({"type":"unregister","password":"new password"})");
  const json wait = read_reply(gina);
  REQUIRE(wait["code"] == "rate-limited");
  std::this_thread::sleep_for(std::chrono::seconds(wait["retry_after"].get<unsigned>()));
  gina.send_line(R"({"type":"unregister","password":"new password"})");
  CHECK(read_reply(gina) == json{{"type", "unregistered"}, {"user", "gina"}});
  gina.send_line(R"({"type":"quit"})");
  gina.await_close();

  // A guest may take the name again.
  join_json(server.port(), "gina");
}

TEST_CASE("a password of 1 MiB is refused without being hashed", "[accounts]") {
  data_dir dir;
  auto config = with_accounts(dir);
  config.max_line = 2 << 20;
  // A cost that would take long for every hash: the refusal must not pay it.
  config.password_ops = 10;
  config.password_memory = 256 << 20;
  test_server server(config);
  line_client client = server.connect();
  expect_prompt(client);
  const auto started = std::chrono::steady_clock::now();
  client.send_line(hello("henry", std::string(1 << 20, 'p')).dump());
  CHECK(read_json(client)["code"] == "bad-password");
  INFO("refused after "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
       << " s");
}

TEST_CASE("without a data directory, account requests say accounts are unavailable", "[accounts]") {
  test_server server;
  line_client guest = server.connect();
  expect_prompt(guest);
  guest.send_line(hello("ivan", "no place to keep it").dump());
  CHECK(read_json(guest)["code"] == "accounts-unavailable");
  expect_prompt(guest);
  line_client jo = join_plain(server.port(), "jo");
  jo.send_line("/register no place to keep it");
  CHECK(error_code_of(jo.read_line()) == "accounts-unavailable");
}

TEST_CASE("with --require-account guests are turned away in the handshake", "[accounts]") {
  data_dir dir;
  auto config = with_accounts(dir);
  config.require_account = true;
  test_server server(config);
  line_client guest = server.connect();
  expect_prompt(guest);
  guest.send_line("kate");
  CHECK(error_code_of(guest.read_line()) == "account-required");
  expect_prompt(guest);
  guest.send_line(R"({"type":"hello","user":"kate","password":"a new account","register":true})");
  const json welcome = read_json(guest);
  INFO(welcome.dump());
  CHECK(welcome["type"] == "welcome");
}

TEST_CASE("passwords over plain TCP from another machine are refused unless allowed",
          "[accounts]") {
  const auto address = outside_address();
  if (!address) {
    WARN("this machine has no address but loopback: nothing to test");
    return;
  }
  data_dir dir;
  auto config = with_accounts(dir);
  SECTION("refused by default") {}
  SECTION("allowed with --allow-plaintext-passwords") { config.allow_plaintext_passwords = true; }
  test_server server(config);
  line_client client = server.connect({.source_address = *address});
  expect_prompt(client);
  client.send_line(hello("lena", "sent in the clear").dump());
  const json reply = read_json(client);
  INFO(reply.dump());
  CHECK(reply["code"] == (config.allow_plaintext_passwords ? "auth-failed" : "insecure-transport"));
}
