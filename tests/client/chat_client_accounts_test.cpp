// chat-client with accounts: logging in with --password-file, --register, a
// password asked for when the server wants one, /register typed, a session
// taken over elsewhere, and reconnects that send the password again. A real
// server keeps the accounts in a data directory; a fake one plays the
// refusals a reconnect must not retry.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "accounts_scene.hpp"
#include "temp_file.hpp"
#include "chat_session.hpp"
#include "data_dir.hpp"
#include "support/chat_client_run.hpp"
#include "support/fake_server.hpp"
#include "support/piped_process.hpp"
#include "test_server.hpp"

namespace {

using chat::test::fake_server;
using chat::test::next_line;
using chat::test::require_exit;
using chat::test::start_client;
using chat::test::temp_file;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto deadline = chat::test::client_deadline;

// Registers `name` with `password` through the client itself, then leaves.
void register_account(std::uint16_t port, const std::string& name, const temp_file& file) {
  auto client = start_client(port, {"--user", name, "--register", "--password-file", file.path()});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome " + name + ","));
  client.close_stdin();
  require_exit(client, 0);
}

// The next line of the client that is not a reconnect attempt's repetition.
std::string next_steady_line(chat::test::piped_process& client) {
  for (;;) {
    std::string line = next_line(client);
    if (!line.starts_with("* reconnect failed") && !line.starts_with("* connection lost")) {
      return line;
    }
  }
}

json read_json_line(fake_server::peer& session) {
  const auto line = session.read_line(deadline);
  REQUIRE(line);
  INFO(*line);
  return json::parse(*line);
}

const std::string welcome =
    json{{"type", "welcome"}, {"user", "alice"}, {"room", "lobby"}, {"users", {"alice"}}}.dump() +
    "\n";

}  // namespace

TEST_CASE("chat-client --register creates the account; --password-file logs in to it",
          "[chat-client][server][accounts]") {
  const chat::test::data_dir dir;
  chat::test::test_server server(chat::test::with_accounts(dir));
  const temp_file right("correct horse\nnot this line\n");
  register_account(server.port(), "alice", right);

  // The account exists now: without a password the name is refused.
  auto guest = start_client(server.port(), {"--user", "alice"}, "/dev/null");
  require_exit(guest, 1);
  CHECK_THAT(guest.stderr_text(), Catch::Contains("no password given"));

  const temp_file wrong("wrong horse\n");
  auto refused = start_client(server.port(), {"--user", "alice", "--password-file", wrong.path()});
  require_exit(refused, 1);
  CHECK_THAT(refused.stderr_text(), Catch::Contains("auth-failed"));
  CHECK_THAT(refused.stderr_text(), !Catch::Contains("wrong horse"));
  // The server throttles the name for 1 s after a failed login (2.6).
  std::this_thread::sleep_for(1100ms);

  auto bob = chat::test::join_json(server.port(), "bob");
  auto alice = start_client(server.port(), {"--user", "alice", "--password-file", right.path()});
  CHECK(next_line(alice) ==
        "* welcome alice, you are in lobby with: alice, bob (/help lists commands)");
  alice.write_stdin("logged in\n");
  CHECK(chat::test::read_json(bob)["type"] == "join");
  CHECK(chat::test::read_json(bob)["text"] == "logged in");
  alice.close_stdin();
  require_exit(alice, 0);
}

TEST_CASE("chat-client reads a missing password from the pipe when the server asks for it",
          "[chat-client][server][accounts]") {
  const chat::test::data_dir dir;
  chat::test::test_server server(chat::test::with_accounts(dir));
  const temp_file file("s3cret-pass\n");
  register_account(server.port(), "alice", file);

  auto bob = chat::test::join_json(server.port(), "bob");
  auto alice = start_client(server.port(), {"--user", "alice"});
  alice.write_stdin("s3cret-pass\nafter the password\n");
  CHECK_THAT(next_line(alice), Catch::StartsWith("* welcome alice,"));
  CHECK(chat::test::read_json(bob)["type"] == "join");
  // The password line went to the server as the password, not to the room.
  CHECK(chat::test::read_json(bob)["text"] == "after the password");
  alice.close_stdin();
  require_exit(alice, 0);
  CHECK_THAT(alice.stdout_text() + alice.stderr_text(), !Catch::Contains("s3cret-pass"));
}

TEST_CASE("chat-client --register without a password takes it from CHAT_PASSWORD or the pipe",
          "[chat-client][server][accounts]") {
  const chat::test::data_dir dir;
  chat::test::test_server server(chat::test::with_accounts(dir));
  auto piped = start_client(server.port(), {"--user", "alice", "--register"});
  piped.write_stdin("piped-password\n");
  CHECK_THAT(next_line(piped), Catch::StartsWith("* welcome alice,"));
  piped.close_stdin();
  require_exit(piped, 0);

  // The child inherits the environment: CHAT_PASSWORD logs it in.
  REQUIRE(::setenv("CHAT_PASSWORD", "piped-password", 1) == 0);
  auto again = start_client(server.port(), {"--user", "alice"}, "/dev/null");
  ::unsetenv("CHAT_PASSWORD");
  CHECK_THAT(next_line(again), Catch::StartsWith("* welcome alice,"));
  require_exit(again, 0);
}

TEST_CASE("chat-client /register makes the name an account that then needs its password",
          "[chat-client][server][accounts]") {
  const chat::test::data_dir dir;
  chat::test::test_server server(chat::test::with_accounts(dir));
  auto alice = start_client(server.port(), {"--user", "alice"});
  CHECK_THAT(next_line(alice), Catch::StartsWith("* welcome alice,"));
  alice.write_stdin("/register short\n");
  CHECK_THAT(next_line(alice), Catch::StartsWith("! error bad-password:"));
  alice.write_stdin("/register typed password\n");
  CHECK(next_line(alice) == "* you are registered as alice: log in with your password from now on");
  alice.write_stdin("/password wrong-old new password\n");
  CHECK_THAT(next_line(alice), Catch::StartsWith("! error auth-failed:"));
  alice.write_stdin("/password onlyold\n");
  CHECK_THAT(next_line(alice), Catch::StartsWith("! usage: /password OLD NEW"));
  alice.close_stdin();
  require_exit(alice, 0);

  auto guest = start_client(server.port(), {"--user", "alice"}, "/dev/null");
  require_exit(guest, 1);
  CHECK_THAT(guest.stderr_text(), Catch::Contains("no password given"));
  // The failed /password throttles the name for 1 s (2.6).
  std::this_thread::sleep_for(1100ms);
  const temp_file file("typed password\n");
  auto back = start_client(server.port(), {"--user", "alice", "--password-file", file.path()});
  CHECK_THAT(next_line(back), Catch::StartsWith("* welcome alice,"));
  back.write_stdin("/unregister typed password\n");
  CHECK(next_line(back) == "* alice is no longer registered; you go on as a guest");
  back.close_stdin();
  require_exit(back, 0);
  auto guest_again = start_client(server.port(), {"--user", "alice"}, "/dev/null");
  CHECK_THAT(next_line(guest_again), Catch::StartsWith("* welcome alice,"));
  require_exit(guest_again, 0);
}

TEST_CASE("chat-client logged in elsewhere says so and does not take the name back",
          "[chat-client][server][accounts]") {
  const chat::test::data_dir dir;
  chat::test::test_server server(chat::test::with_accounts(dir));
  const temp_file file("shared password\n");
  register_account(server.port(), "alice", file);

  auto first = start_client(server.port(), {"--user", "alice", "--password-file", file.path()});
  CHECK_THAT(next_line(first), Catch::StartsWith("* welcome alice,"));
  auto second = start_client(server.port(), {"--user", "alice", "--password-file", file.path()});
  CHECK_THAT(next_line(second), Catch::StartsWith("* welcome alice,"));

  CHECK_THAT(next_line(first), Catch::StartsWith("! error session-replaced:"));
  CHECK(next_line(first) == "* logged in elsewhere; not reconnecting");
  require_exit(first, 1);
  // The second keeps the name: nothing took it back.
  second.write_stdin("/who\n");
  CHECK(next_line(second) == "* users in lobby: alice");
  second.close_stdin();
  require_exit(second, 0);
}

TEST_CASE("chat-client reconnects to a restarted server with its password",
          "[chat-client][server][accounts][reconnect]") {
  const chat::test::data_dir dir;
  auto config = chat::test::with_accounts(dir);
  std::uint16_t port = 0;
  const temp_file file("kept password\n");
  std::optional<chat::test::piped_process> alice;
  {
    chat::test::test_server server(config);
    port = server.port();
    // Registered by /register: the password the reconnect needs is the one
    // typed, not one given at the start.
    alice.emplace(std::vector<std::string>{CHAT_CLIENT_PATH, "--port", std::to_string(port),
                                           "--user", "alice"});
    CHECK_THAT(next_line(*alice), Catch::StartsWith("* welcome alice,"));
    alice->write_stdin("/register kept password\n");
    CHECK_THAT(next_line(*alice), Catch::StartsWith("* you are registered as alice"));
    server.stop();
  }
  CHECK(next_line(*alice) == "* server is shutting down");
  CHECK_THAT(next_line(*alice), Catch::StartsWith("* connection lost (the server shut down)"));
  config.port = port;
  chat::test::test_server restarted(config);
  // A hello without the password would be refused (password-required), and
  // the client would give up.
  CHECK(next_steady_line(*alice) == "* reconnected");
  CHECK_THAT(next_line(*alice), Catch::StartsWith("* welcome alice,"));
  alice->close_stdin();
  require_exit(*alice, 0);
}

TEST_CASE("chat-client stops reconnecting when its password is refused",
          "[chat-client][accounts][reconnect]") {
  fake_server fake;
  const temp_file file("first password\n");
  auto client = start_client(fake.port(), {"--user", "alice", "--password-file", file.path()});
  {
    auto session = fake.accept(deadline);
    session.send("USER\n");
    CHECK(read_json_line(session) ==
          json{{"type", "hello"}, {"user", "alice"}, {"password", "first password"}});
    session.send(welcome);
    CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
    session.close();
  }
  auto session = fake.accept(15s);
  session.send("USER\n");
  CHECK(read_json_line(session) == json{{"type", "hello"},
                                        {"user", "alice"},
                                        {"password", "first password"},
                                        {"resume", {{"lobby", 0}}}});
  session.send(
      R"({"type":"error","code":"auth-failed","message":"wrong password or no such account"})"
      "\n");
  require_exit(client, 1);
  CHECK_THAT(client.stderr_text(), Catch::Contains("auth-failed") &&
                                       Catch::Contains("not reconnecting") &&
                                       !Catch::Contains("first password"));
}

TEST_CASE("chat-client waits as long as a throttled reconnect is told to",
          "[chat-client][accounts][reconnect]") {
  fake_server fake;
  const temp_file file("first password\n");
  auto client = start_client(fake.port(), {"--user", "alice", "--password-file", file.path()});
  {
    auto session = fake.accept(deadline);
    session.send("USER\n");
    CHECK(read_json_line(session)["password"] == "first password");
    session.send(welcome);
    CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
    session.close();
  }
  {
    auto session = fake.accept(15s);
    session.send("USER\n");
    CHECK(read_json_line(session)["password"] == "first password");
    session.send(
        R"({"type":"error","code":"rate-limited","message":"too many attempts","retry_after":3})"
        "\n");
  }
  // The backoff alone would be 1 s at most.
  const auto refused = std::chrono::steady_clock::now();
  auto session = fake.accept(15s);
  CHECK(std::chrono::steady_clock::now() - refused >= 2900ms);
  session.send("USER\n");
  CHECK(read_json_line(session)["password"] == "first password");
  session.send(welcome);
  CHECK(next_steady_line(client) == "* reconnected");
  // The pings after the hello and after the restoring: then it is back.
  for (int i = 0; i < 2; ++i) {
    CHECK(read_json_line(session) == json{{"type", "ping"}});
    session.send("{\"type\":\"pong\"}\n");
  }
  client.write_stdin("back\n");
  CHECK(read_json_line(session)["text"] == "back");
  client.close_stdin();
  CHECK(read_json_line(session) == json{{"type", "quit"}});
  session.close();
  require_exit(client, 0);
  CHECK_THAT(client.stdout_text() + client.stderr_text(), !Catch::Contains("first password"));
}
