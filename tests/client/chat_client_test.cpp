// chat-client as people and scripts run it: the real binary with its stdin,
// stdout and stderr on pipes, against the real server, or against a fake one
// where the server has to misbehave.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "temp_file.hpp"
#include "chat_session.hpp"
#include "protocol/event.hpp"
#include "support/chat_client_run.hpp"
#include "support/fake_server.hpp"
#include "support/piped_process.hpp"
#include "test_server.hpp"

namespace {

namespace protocol = chat::protocol;
using chat::test::join_json;
using chat::test::json;
using chat::test::piped_process;
using chat::test::read_json;
using chat::test::temp_file;
using namespace std::chrono_literals;

using chat::test::next_envelope;
using chat::test::next_line;
using chat::test::require_exit;
using chat::test::start_client;

constexpr auto deadline = chat::test::client_deadline;

json membership(const char* type, const char* user) {
  return json{{"type", type}, {"room", "lobby"}, {"user", user}};
}

// A terminal for the client to read from: the client opens the slave side
// as its stdin, the test types on the master side.
class pseudo_terminal {
public:
  pseudo_terminal() : master_(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) {
    REQUIRE(master_ != -1);
    REQUIRE(::grantpt(master_) == 0);
    REQUIRE(::unlockpt(master_) == 0);
    slave_path_ = ::ptsname(master_);
  }
  ~pseudo_terminal() { ::close(master_); }
  pseudo_terminal(const pseudo_terminal&) = delete;
  pseudo_terminal& operator=(const pseudo_terminal&) = delete;

  const std::string& slave_path() const { return slave_path_; }
  void type(std::string_view keys) {
    REQUIRE(::write(master_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
  }

private:
  int master_;
  std::string slave_path_;
};

}  // namespace

TEST_CASE("chat-client sends piped lines in order, loses none, and exits 0 at their end",
          "[chat-client][server]") {
  chat::test::test_server server;
  auto watcher = join_json(server.port(), "watcher");

  constexpr int count = 200;
  auto client = start_client(server.port(), {"--user", "alice"});
  for (int i = 1; i <= count; ++i) client.write_stdin("line " + std::to_string(i) + "\n");
  client.close_stdin();
  require_exit(client, 0);
  CHECK(client.stderr_text().empty());

  CHECK(read_json(watcher) == membership("join", "alice"));
  std::uint64_t last_id = 0;
  for (int i = 1; i <= count; ++i) {
    const json message = read_json(watcher);
    REQUIRE(message["type"] == "msg");
    CHECK(message["from"] == "alice");
    REQUIRE(message["text"] == "line " + std::to_string(i));
    CHECK(message["id"].get<std::uint64_t>() > last_id);
    last_id = message["id"].get<std::uint64_t>();
  }
  CHECK(read_json(watcher) == membership("leave", "alice"));
}

TEST_CASE("chat-client --json prints raw envelopes and passes requests through",
          "[chat-client][server]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");
  auto client = start_client(server.port(), {"--json", "--user", "alice"});

  const std::vector<std::string> both{"alice", "bob"};
  // Byte for byte as the server sent it.
  CHECK(next_line(client) + "\n" ==
        protocol::encode_welcome(protocol::session_mode::json, "alice", "lobby", both));
  CHECK(read_json(bob) == membership("join", "alice"));

  bob.send_line(R"({"type":"msg","text":"hi alice"})");
  const json message = next_envelope(client);
  CHECK(message["type"] == "msg");
  CHECK(message["from"] == "bob");
  CHECK(message["text"] == "hi alice");

  client.write_stdin("{\"type\":\"who\"}\n");
  CHECK(next_envelope(client) == json{{"type", "users"}, {"room", "lobby"}, {"users", both}});
  client.write_stdin("{\"type\":\"msg\",\"text\":\"with ref\",\"ref\":{\"n\":1}}\n");
  const json ack = next_envelope(client);
  CHECK(ack["type"] == "ack");
  CHECK(ack["ref"] == json{{"n", 1}});
  client.write_stdin("{\"type\":\"ping\"}\n{not json\n");
  CHECK(next_envelope(client) == json{{"type", "pong"}});
  CHECK(next_envelope(client)["code"] == "bad-json");
  client.write_stdin("plain words\n");

  CHECK(read_json(bob)["text"] == "with ref");
  CHECK(read_json(bob)["text"] == "plain words");

  client.close_stdin();
  require_exit(client, 0);
  CHECK(client.stdout_text().empty());  // nothing after the last envelope
}

TEST_CASE("chat-client renders the room readably and handles commands", "[chat-client][server]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");
  auto client = start_client(server.port(), {"--user", "alice"});

  CHECK(next_line(client) ==
        "* welcome alice, you are in lobby with: alice, bob (/help lists commands)");
  CHECK(read_json(bob) == membership("join", "alice"));

  bob.send_line(R"({"type":"msg","text":"hi there"})");
  CHECK_THAT(next_line(client), Catch::Matches(R"(\[\d\d:\d\d\] bob: hi there)"));

  auto carol = join_json(server.port(), "carol");
  CHECK(next_line(client) == "* carol joined lobby");
  carol.close();
  CHECK(next_line(client) == "* carol left lobby");
  CHECK(read_json(bob) == membership("join", "carol"));
  CHECK(read_json(bob) == membership("leave", "carol"));

  client.write_stdin("/who\n");
  CHECK(next_line(client) == "* users in lobby: alice, bob");
  client.write_stdin("/help\n");
  CHECK(next_line(client) == "* commands:");
  // The rest of the list, up to its last line.
  while (!next_line(client).ends_with("[history] earlier ones.")) {
  }
  client.write_stdin("/shrug\n");
  CHECK_THAT(next_line(client), Catch::StartsWith("! unknown command /shrug"));
  client.write_stdin("//shrug\nlast words\n");
  CHECK(read_json(bob)["text"] == "/shrug");  // and not the mistyped command before it
  CHECK(read_json(bob)["text"] == "last words");

  client.write_stdin("/quit\n");
  require_exit(client, 0);
  CHECK(read_json(bob) == membership("leave", "alice"));
}

TEST_CASE("chat-client takes the name from stdin when --user is not given",
          "[chat-client][server]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");
  auto client = start_client(server.port(), {});
  client.write_stdin("carol\nhello from carol\n");
  client.close_stdin();
  require_exit(client, 0);
  CHECK(read_json(bob) == membership("join", "carol"));
  CHECK(read_json(bob)["text"] == "hello from carol");
}

TEST_CASE("chat-client reads stdin from a regular file or /dev/null", "[chat-client][server]") {
  chat::test::test_server server;
  auto bob = join_json(server.port(), "bob");

  // CRLF and blank lines as any text file may have; the last line has no LF.
  const temp_file input("one\r\n\ntwo");
  auto from_file = start_client(server.port(), {"--user", "filer"}, input.path());
  require_exit(from_file, 0);
  CHECK(read_json(bob) == membership("join", "filer"));
  CHECK(read_json(bob)["text"] == "one");
  CHECK(read_json(bob)["text"] == "two");
  CHECK(read_json(bob) == membership("leave", "filer"));

  auto from_null = start_client(server.port(), {"--user", "nobody"}, "/dev/null");
  require_exit(from_null, 0);
  CHECK(read_json(bob) == membership("join", "nobody"));
  CHECK(read_json(bob) == membership("leave", "nobody"));
}

TEST_CASE("chat-client with a taken or bad --user exits 1 with the server's reason",
          "[chat-client][server]") {
  chat::test::test_server server;
  auto alice = join_json(server.port(), "alice");

  auto taken = start_client(server.port(), {"--user", "ALICE"});
  require_exit(taken, 1);
  CHECK_THAT(taken.stderr_text(), Catch::Contains("name-taken"));

  auto bad = start_client(server.port(), {"--user", "no spaces"});
  require_exit(bad, 1);
  CHECK_THAT(bad.stderr_text(), Catch::Contains("bad-name"));

  // --json shows the refusal as the envelope it is, too.
  auto scripted = start_client(server.port(), {"--json", "--user", "alice"});
  CHECK(next_envelope(scripted)["code"] == "name-taken");
  require_exit(scripted, 1);
}

TEST_CASE("chat-client at a terminal asks again for a refused name", "[chat-client][server]") {
  chat::test::test_server server;
  auto alice = join_json(server.port(), "alice");
  pseudo_terminal terminal;
  auto client = start_client(server.port(), {"--user", "alice"}, terminal.slave_path());

  CHECK_THAT(next_line(client), Catch::StartsWith("! error name-taken:"));
  terminal.type("not valid\n");
  CHECK_THAT(next_line(client), Catch::StartsWith("! error bad-name:"));
  terminal.type("bob\n");
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome bob,"));
  CHECK(read_json(alice) == membership("join", "bob"));

  terminal.type("\x04");  // ^D: end of input at a terminal
  require_exit(client, 0);
  CHECK_THAT(client.stderr_text(), Catch::Contains("user name: "));
  CHECK(read_json(alice) == membership("leave", "bob"));
}

TEST_CASE("chat-client --no-reconnect shows the server's shutdown and exits 0",
          "[chat-client][server]") {
  chat::test::test_server server;
  auto client = start_client(server.port(), {"--user", "alice", "--no-reconnect"});
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));
  server.stop();
  CHECK(next_line(client) == "* server is shutting down");
  require_exit(client, 0);
}

TEST_CASE("chat-client exits 1 with a message when the connection is refused", "[chat-client]") {
  const std::uint16_t port = chat::test::closed_port();
  auto client = start_client(port, {"--user", "alice"});
  require_exit(client, 1);
  CHECK_THAT(client.stderr_text(),
             Catch::Contains("cannot connect to 127.0.0.1:" + std::to_string(port)) &&
                 Catch::Contains("refused"));
}

TEST_CASE("chat-client --no-reconnect exits 1 when the server goes away unannounced",
          "[chat-client]") {
  chat::test::fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice", "--no-reconnect"});
  auto session = fake.accept(deadline);
  session.send("USER\n");
  CHECK(session.read_line(deadline) == R"({"type":"hello","user":"alice"})");
  session.send(R"({"type":"welcome","user":"alice","room":"lobby","users":["alice"]})"
               "\n");
  CHECK_THAT(next_line(client), Catch::StartsWith("* welcome alice"));

  SECTION("with a FIN") {
    session.close();
    require_exit(client, 1);
    CHECK_THAT(client.stderr_text(), Catch::Contains("the server closed the connection"));
  }
  SECTION("with a reset") {
    session.reset();
    require_exit(client, 1);
    CHECK_THAT(client.stderr_text(),
               Catch::Contains("connection to the server lost") && Catch::Contains("reset"));
  }
}

TEST_CASE("chat-client exits 1 when the server hangs up during login", "[chat-client]") {
  chat::test::fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice"});
  auto session = fake.accept(deadline);
  session.send("USER\n");
  CHECK(session.read_line(deadline) == R"({"type":"hello","user":"alice"})");
  session.close();
  require_exit(client, 1);
  CHECK_THAT(client.stderr_text(), Catch::Contains("during login"));
}

TEST_CASE("chat-client stopped by a signal leaves stdin's flags as it found them",
          "[chat-client]") {
  chat::test::fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice"});
  auto session = fake.accept(deadline);
  session.send("USER\n");
  CHECK(session.read_line(deadline) == R"({"type":"hello","user":"alice"})");
  session.send(R"({"type":"welcome","user":"alice","room":"lobby","users":["alice"]})"
               "\n");
  client.write_stdin("hello\n");
  CHECK(session.read_line(deadline) == R"({"type":"msg","room":"lobby","text":"hello","ref":1})");
  // Reading stdin through the reactor made it non-blocking, and a terminal's
  // flags are shared with the shell: the client must undo that on its way out.
  REQUIRE((client.stdin_flags().value() & O_NONBLOCK) != 0);

  client.send_signal(SIGINT);
  require_exit(client, 128 + SIGINT);
  CHECK((client.stdin_flags().value() & O_NONBLOCK) == 0);
  CHECK(session.read_line(deadline) == std::nullopt);  // it closed the connection
}

TEST_CASE("chat-client refuses a bad --port naming the value and the range", "[chat-client]") {
  for (const char* port : {"0", "70000", "seven"}) {
    piped_process client({CHAT_CLIENT_PATH, "--port", port});
    require_exit(client, 2);
    CHECK_THAT(client.stderr_text(), Catch::Contains(port) && Catch::Contains("1 to 65535"));
  }
}
