// The chat-server program's flags for history, keepalive and fair use: each
// value reaches the server, and a value that cannot work is refused at start.

#include <signal.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "child_process.hpp"
#include "data_dir.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

const std::string chat_server = CHAT_SERVER_BINARY;

std::vector<std::string> with_port_0(std::vector<std::string> args) {
  args.insert(args.begin(), {"--port", "0"});
  return args;
}

// Runs chat-server with `args`, expecting it to refuse them; returns its
// output, or nothing when it did not refuse.
std::optional<std::string> refusal(const std::vector<std::string>& args) {
  child_process server(chat_server, with_port_0(args));
  int status = 0;
  try {
    // Refusing takes no time; a server that took the value is listening by now.
    status = server.wait(2s);
  } catch (const std::exception& e) {
    FAIL_CHECK("chat-server took the value: " << e.what());
    return std::nullopt;
  }
  INFO("output: " << server.output());
  CHECK(status != 0);
  CHECK(status < 128);  // an orderly exit, not a crash
  CHECK(server.output().find("listening on") == std::string::npos);
  return server.output();
}

// Sends `count` messages in one write and returns, in order, whether each
// was acked (true) or refused as rate-limited (false).
std::vector<bool> send_burst(line_client& json_client, int count) {
  std::string burst;
  for (int i = 0; i < count; ++i) {
    burst += json{{"type", "msg"}, {"text", "m" + std::to_string(i)}, {"ref", i}}.dump() + "\n";
  }
  json_client.send_raw(burst);
  std::vector<bool> acked;
  for (int i = 0; i < count; ++i) {
    json answer = read_json(json_client);
    INFO("answer " << answer.dump());
    if (answer["type"] != "ack") CHECK(answer["code"] == "rate-limited");
    acked.push_back(answer["type"] == "ack");
  }
  return acked;
}

}  // namespace

TEST_CASE("chat-server --rate-limit R/B limits each client to a burst of B, refilled at R a second",
          "[chat-server][fair-use]") {
  child_process server(chat_server, with_port_0({"--rate-limit", "5/10"}));
  const std::uint16_t port = await_listening(server);
  line_client alice = join_json(port, "alice");

  const auto start = clock_type::now();
  const auto acked = send_burst(alice, 30);
  const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  const auto count = std::count(acked.begin(), acked.end(), true);
  INFO(count << " of 30 acked in " << elapsed << " s");
  for (int i = 0; i < 10; ++i) CHECK(acked[i]);
  CHECK(count >= 10);
  CHECK(count <= 10 + static_cast<long>(std::floor(5 * elapsed)));
}

TEST_CASE("chat-server limits messages by default, and --rate-limit 0 turns that off",
          "[chat-server][fair-use]") {
  SECTION("by default, 10/20") {
    child_process server(chat_server, {"--port", "0"});
    line_client alice = join_json(await_listening(server), "alice");
    const auto acked = send_burst(alice, 60);
    CHECK(std::count(acked.begin(), acked.end(), false) > 0);
  }
  SECTION("off") {
    child_process server(chat_server, with_port_0({"--rate-limit", "0"}));
    line_client alice = join_json(await_listening(server), "alice");
    const auto acked = send_burst(alice, 60);
    CHECK(std::count(acked.begin(), acked.end(), false) == 0);
  }
}

TEST_CASE("chat-server refuses a --rate-limit that is not R/B or 0, naming it",
          "[chat-server][fair-use]") {
  for (const char* value :
       {"abc", "5", "5/", "/10", "5/10/2", "-1/10", "5/0", "5/x", "x/5", "ten/20"}) {
    INFO("--rate-limit '" << value << "'");
    const auto output = refusal({"--rate-limit", value});
    if (!output) continue;
    CHECK(output->find("--rate-limit") != std::string::npos);
    CHECK(output->find(std::string("'") + value + "'") != std::string::npos);
  }
}

TEST_CASE("chat-server refuses numbers that are not numbers: nan for a rate or a duration",
          "[chat-server][fair-use][keepalive]") {
  // from_chars reads "nan" as a double; NaN passes every range check by
  // comparing false. A NaN burst then refuses every message, a NaN
  // duration is converted to an integer (undefined behaviour).
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--rate-limit", "nan/10"},
                                               {"--rate-limit", "5/nan"},
                                               {"--ping-interval", "nan"},
                                               {"--idle-timeout", "nan"}}) {
    INFO(args[0] << " '" << args[1] << "'");
    const auto output = refusal(args);
    if (output) CHECK(output->find(args[0]) != std::string::npos);
  }
}

TEST_CASE("chat-server --ping-interval and --idle-timeout take fractions of a second",
          "[chat-server][keepalive]") {
  SECTION("--ping-interval 0.2") {
    child_process server(chat_server, with_port_0({"--ping-interval", "0.2"}));
    const std::uint16_t port = await_listening(server);
    const auto start = clock_type::now();
    line_client alice = join_json(port, "alice");
    CHECK(read_json(alice, 2s) == json{{"type", "ping"}});
    CHECK(clock_type::now() - start >= 200ms);
    const auto words = alice.read_until_eof(2s);
    REQUIRE(words.size() == 1);
    CHECK(error_code_of(words[0]) == "timeout");
  }
  SECTION("--idle-timeout 0.3") {
    child_process server(chat_server, with_port_0({"--idle-timeout", "0.3"}));
    const std::uint16_t port = await_listening(server);
    const auto start = clock_type::now();
    line_client dave = join_plain(port, "dave");
    const auto words = dave.read_until_eof(2s);
    CHECK(clock_type::now() - start >= 300ms);
    REQUIRE(words.size() == 1);
    CHECK(words[0].starts_with("! error timeout: "));
  }
}

TEST_CASE("chat-server --max-clients and --max-per-ip refuse the connection past the cap",
          "[chat-server][fair-use]") {
  SECTION("--max-clients 1") {
    child_process server(chat_server, with_port_0({"--max-clients", "1"}));
    const std::uint16_t port = await_listening(server);
    line_client alice = join_json(port, "alice");
    line_client extra(port);
    const auto words = extra.read_until_eof();
    REQUIRE(words.size() == 1);
    CHECK(words[0].starts_with("! error server-full: "));
  }
  SECTION("--max-per-ip 1") {
    child_process server(chat_server, with_port_0({"--max-per-ip", "1"}));
    const std::uint16_t port = await_listening(server);
    line_client alice = join_json(port, "alice");
    line_client extra(port);
    const auto words = extra.read_until_eof();
    REQUIRE(words.size() == 1);
    CHECK(words[0].starts_with("! error too-many-connections: "));
  }
}

TEST_CASE("chat-server --data-dir keeps history across runs of the program",
          "[chat-server][persistence]") {
  data_dir dir;
  {
    child_process server(chat_server,
                         with_port_0({"--data-dir", dir.string(), "--drain-seconds", "0"}));
    line_client alice = join_json(await_listening(server), "alice");
    alice.send_line(R"({"type":"msg","text":"remember me","ref":1})");
    CHECK(read_json(alice)["type"] == "ack");
    server.send_signal(SIGTERM);
    CHECK(server.wait(5s) == 0);
  }
  child_process server(chat_server, with_port_0({"--data-dir", dir.string()}));
  line_client bob = join_plain(await_listening(server), "bob");
  CHECK(bob.read_line() == "[history] alice: remember me");
}

TEST_CASE("chat-server --data-dir with a database it cannot use exits 1, naming the file",
          "[chat-server][persistence]") {
  data_dir dir;
  SECTION("a file that is no database") {
    const auto file = dir.path() / "history.sqlite3";
    std::ofstream(file, std::ios::binary) << std::string(4096, 'x');
    child_process server(chat_server, with_port_0({"--data-dir", dir.string()}));
    CHECK(server.wait() == 1);
    INFO("output: " << server.output());
    CHECK(server.output().starts_with("chat-server: "));
    CHECK(server.output().find(file.string()) != std::string::npos);
    CHECK(server.output().find("listening on") == std::string::npos);
  }
  SECTION("a directory that cannot be made") {
    const auto regular = dir.path() / "a-file";
    std::ofstream(regular) << "not a directory\n";
    const std::string path = (regular / "history").string();
    child_process server(chat_server, with_port_0({"--data-dir", path}));
    CHECK(server.wait() == 1);
    INFO("output: " << server.output());
    CHECK(server.output().starts_with("chat-server: "));
    CHECK(server.output().find(path) != std::string::npos);
  }
}

TEST_CASE("chat-server --help describes the flags of rooms, history, keepalive and fair use",
          "[chat-server]") {
  child_process server(chat_server, {"--help"});
  CHECK(server.wait() == 0);
  INFO("output: " << server.output());
  for (const char* flag : {"--default-room", "--history", "--data-dir", "--ping-interval",
                           "--idle-timeout", "--rate-limit", "--max-clients", "--max-per-ip"}) {
    CHECK(server.output().find(flag) != std::string::npos);
  }
}

TEST_CASE("chat-server refuses WebSocket and drain flags that cannot work, saying why",
          "[chat-server]") {
  const auto short_token = refusal({"--http-port", "0", "--admin-token", "short"});
  REQUIRE(short_token);
  CHECK_THAT(*short_token, Catch::Contains("16 characters"));
  const auto token_alone = refusal({"--admin-token", "a-token-long-enough-for-it"});
  REQUIRE(token_alone);
  CHECK_THAT(*token_alone, Catch::Contains("--http-port"));
  const auto origin_alone = refusal({"--allowed-origin", "https://chat.example.com"});
  REQUIRE(origin_alone);
  CHECK_THAT(*origin_alone, Catch::Contains("--http-port"));
  const auto bad_origin = refusal({"--http-port", "0", "--allowed-origin", "chat.example.com"});
  REQUIRE(bad_origin);
  CHECK_THAT(*bad_origin, Catch::Contains("an origin such as"));
  // WebSocket over TLS takes the TLS port's certificate and key.
  const auto https_alone = refusal({"--https-port", "0"});
  REQUIRE(https_alone);
  CHECK_THAT(*https_alone, Catch::Contains("--https-port needs --cert FILE and --key FILE"));
  const auto https_without_key = refusal({"--https-port", "0", "--cert", "server.crt"});
  REQUIRE(https_without_key);
  CHECK_THAT(*https_without_key, Catch::Contains("--https-port needs"));
  const auto cert_alone = refusal({"--cert", "server.crt", "--key", "server.key"});
  REQUIRE(cert_alone);
  CHECK_THAT(*cert_alone, Catch::Contains("--https-port"));
  const auto bad_drain = refusal({"--drain-seconds", "-1"});
  REQUIRE(bad_drain);
  CHECK_THAT(*bad_drain, Catch::Contains("--drain-seconds"));
}
