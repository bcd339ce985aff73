// The session's own I/O: when it reads (it waits before reading where a read
// would most likely fail), how it resumes after a turn or a full read buffer,
// and how its writer resumes after the kernel pushed back.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

// Plain messages "<prefix> <i>" for i in [0, count), one write's worth.
std::string numbered_lines(std::string_view prefix, int count, std::size_t padding = 0) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    out.append(prefix).append(" ").append(std::to_string(i));
    out.append(padding, '.');
    out += '\n';
  }
  return out;
}

}  // namespace

TEST_CASE("a name sent before the prompt was read is answered all the same", "[session-io]") {
  test_server server;
  // Whichever comes first, the name or the session's first wait for input,
  // the name must be seen: a session does not read before its prompt.
  constexpr int count = 20;
  std::vector<line_client> clients;
  for (int i = 0; i < count; ++i) {
    clients.push_back(server.connect());
    clients.back().send_line("early" + std::to_string(i));
  }
  for (int i = 0; i < count; ++i) {
    INFO("client " << i);
    expect_prompt(clients[i]);
    CHECK(clients[i].read_line().starts_with("* welcome early" + std::to_string(i) + ", "));
  }
}

TEST_CASE("input of more than one read buffer in one write is handled in full and in order",
          "[session-io]") {
  test_server server;
  line_client alice = join_plain(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob");
  expect_join(alice, "bob");
  // 3000 lines of about 60 bytes: well past the 64 KiB a session reads at
  // once and the 128 lines of a turn.
  constexpr int count = 3000;
  alice.send_raw(numbered_lines("burst", count, 50));
  for (int i = 0; i < count; ++i) {
    REQUIRE(bob.read_line() == "alice: burst " + std::to_string(i) + std::string(50, '.'));
  }
  CHECK(lines_before_help(alice).empty());
}

TEST_CASE("a reader that lags behind gets everything in order once it reads", "[session-io]") {
  auto config = test_config();
  config.max_queue = 64 << 20;
  test_server server(config);
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_plain(server.port(), "bob", {.receive_buffer = 4096});
  CHECK(read_json(alice) == json{{"type", "join"}, {"room", "lobby"}, {"user", "bob"}});
  // 6 MiB for bob: more than the kernel buffers between the two of them (the
  // server's send buffer grows to 4 MiB at most), so the server's writer has
  // to wait for bob; far less than the bound for a slow consumer.
  constexpr int count = 6000;
  const std::string padding(1000, '.');
  for (int i = 0; i < count; ++i) {
    alice.send_line(json{{"type", "msg"}, {"text", std::to_string(i) + padding}}.dump());
  }
  // Every message is handled, and so queued for bob, before the answer to this.
  CHECK(lines_before_pong(alice).empty());
  for (int i = 0; i < count; ++i) {
    REQUIRE(bob.read_line() == "alice: " + std::to_string(i) + padding);
  }
  // The writer goes on after the backlog: a later frame still arrives.
  alice.send_line(R"({"type":"msg","text":"after"})");
  CHECK(bob.read_line() == "alice: after");
}
