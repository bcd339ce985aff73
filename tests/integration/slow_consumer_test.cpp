// A client that stops reading: it must not stall the room, must not make the
// server hold more and more memory, and must be told why it was dropped.

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "slow_consumer_scene.hpp"
#include "test_server.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t max_queue = 64 * 1024;
constexpr int chatter_count = 3;
// Generous next to max_queue, small next to stalled_give_up_after.
constexpr long max_growth_kib = 8 * 1024;

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
    status.ignore(1 << 10, '\n');
  }
  FAIL("no VmRSS in /proc/self/status");
  return 0;
}

// The text of a msg; `#seq` lets every receiver check order and gaps.
std::string text_of(int sender, int seq) {
  return chatter_name(sender) + " #" + std::to_string(seq) + " " + std::string(3800, '.');
}

int seq_in(const json& frame) {
  const std::string text = frame["text"].get<std::string>();
  return std::stoi(text.substr(text.find('#') + 1));
}

int sender_in(const json& frame) {
  const std::string from = frame["from"].get<std::string>();
  REQUIRE(from.starts_with("chatter"));
  return std::stoi(from.substr(7));
}

}  // namespace

TEST_CASE("a client that never reads is dropped as a slow consumer while the others chat on",
          "[slow-consumer]") {
  auto config = test_config();
  config.max_queue = max_queue;
  // Long enough for the stalled client to come back for its last frame.
  config.linger = 10s;
  test_server server(config);

  auto [chatters, stalled] = join_stalled_room(server.port(), chatter_count);

  const long resident_before = resident_kib();
  std::size_t pushed = 0;
  int rounds = 0;
  int leaves_seen = 0;
  // next_seq[receiver][sender]: every chatter gets every other's messages, in order.
  std::vector<std::vector<int>> next_seq(chatter_count, std::vector<int>(chatter_count, 0));

  // Rounds in lock step: each chatter sends one message and reads the others'
  // before the next round, so only the stalled client falls behind.
  while (leaves_seen < chatter_count) {
    INFO("pushed " << pushed << " bytes in " << rounds << " rounds");
    REQUIRE(pushed < stalled_give_up_after);
    for (int sender = 0; sender < chatter_count; ++sender) {
      const std::string text = text_of(sender, rounds);
      chatters[sender].send_line(json{{"type", "msg"}, {"text", text}}.dump());
      pushed += text.size();
    }
    ++rounds;
    for (int receiver = 0; receiver < chatter_count; ++receiver) {
      int received = 0;
      while (received < chatter_count - 1) {
        const json frame = read_json(chatters[receiver]);
        if (frame == json{{"type", "leave"}, {"room", "lobby"}, {"user", "stalled"}}) {
          ++leaves_seen;
          continue;
        }
        REQUIRE(frame["type"] == "msg");
        const int sender = sender_in(frame);
        CHECK(seq_in(frame) == next_seq[receiver][sender]);
        ++next_seq[receiver][sender];
        ++received;
      }
    }
  }
  const long growth_kib = resident_kib() - resident_before;

  // The others go on, and the room has forgotten the stalled client.
  chatters[0].send_line(R"({"type":"who"})");
  CHECK(read_json(chatters[0])["users"] == json{"chatter0", "chatter1", "chatter2"});

  {
    INFO("resident memory grew by " << growth_kib << " KiB while " << pushed / 1024
                                    << " KiB were sent towards the stalled client");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // ASan's quarantine keeps freed blocks resident and TSan's shadow grows
    // with every address touched: growth would measure traffic, not retention.
    WARN("memory growth not checked under a sanitizer");
#else
    CHECK(growth_kib < max_growth_kib);
#endif
  }

  // The stalled client, reading at last, finds what fitted in the socket
  // buffers, then the reason it was dropped, then EOF.
  const slow_consumer_drop drop = read_slow_consumer_drop(stalled);
  CHECK(drop.error["message"].is_string());

  // Before it, a clean prefix of the room's traffic: whole frames, each
  // sender's from its first and in order; the rest was dropped, not cut.
  const std::vector<std::string>& lines = drop.before;
  std::vector<int> expected_seq(chatter_count, 0);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json frame = json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    INFO("line " << i << ": " << lines[i].substr(0, 80));
    REQUIRE(frame.is_object());
    REQUIRE(frame["type"] == "msg");
    const int sender = sender_in(frame);
    CHECK(seq_in(frame) == expected_seq[sender]);
    ++expected_seq[sender];
  }
}
