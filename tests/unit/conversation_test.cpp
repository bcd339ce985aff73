// The protocol state of one client, driven with no socket and no Asio: input
// and the time go in, frames and close requests come out.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "server/conversation.hpp"
#include "server/hub.hpp"

using namespace std::chrono_literals;
using chat::server::config;
using chat::server::conversation;
using chat::server::frame;
using chat::server::hub;

namespace {

// A conversation whose session only records: what was delivered, and
// whether a close was asked for.
class recorded_conversation final : public conversation {
public:
  recorded_conversation(hub& h, const config& cfg, time_point now) : conversation(h, cfg, now) {}
  using conversation::begin;
  using conversation::leave_hub;
  using conversation::logged_in;
  using conversation::next_deadline;
  using conversation::on_deadline;

  std::size_t say(std::string_view input, time_point now) {
    heard_from_client(now);
    return on_input(input, now);
  }

  // The frames delivered since the last call.
  std::vector<std::string> take() { return std::exchange(delivered_, {}); }

  void deliver(frame f) override { delivered_.push_back(*f); }
  void shutdown() override {}
  void warn_of_shutdown() override {}
  void displaced() override { on_displaced(); }

  bool close_asked = false;
  bool stopped = false;

private:
  void close_after_flush() override {
    close_asked = true;
    if (!closing()) begin_closing(clock::now());
  }
  void stop() override { stopped = true; }
  void deadlines_changed() override {}
  void watch_commits() override { watching = true; }
  void resume_input() override { resumed = true; }
  void run_in_session(std::function<void()> job) override { job(); }

  std::vector<std::string> delivered_;

public:
  using conversation::input_paused;
  using conversation::on_commit;
  bool watching = false;
  bool resumed = false;
};

struct scene {
  config cfg = [] {
    config c;
    c.handshake_timeout = 10s;
    c.rate_limit = 0;
    return c;
  }();
  hub room_hub{hub::options{}};
  conversation::time_point now = conversation::clock::now();

  // The hub holds its members until they leave, as a session's stop() does.
  ~scene() {
    for (const auto& client : arrived) client->leave_hub();
  }

  std::shared_ptr<recorded_conversation> arrive() {
    auto client = std::make_shared<recorded_conversation>(room_hub, cfg, now);
    client->begin();
    arrived.push_back(client);
    return client;
  }

  std::vector<std::shared_ptr<recorded_conversation>> arrived;
};

}  // namespace

TEST_CASE("a conversation asks for a name, logs in and chats, with no socket", "[conversation]") {
  scene s;
  auto alice = s.arrive();
  CHECK(alice->take() == std::vector<std::string>{"USER\n"});
  alice->say(R"({"type":"hello","user":"alice"})"
             "\n",
             s.now);
  CHECK(alice->logged_in());
  CHECK(alice->take().at(0).starts_with(R"({"type":"welcome")"));

  auto bob = s.arrive();
  bob->take();
  bob->say("bob\n", s.now);
  CHECK(bob->take().at(0).starts_with("* welcome bob"));
  CHECK(alice->take() == std::vector<std::string>{R"({"type":"join","room":"lobby","user":"bob"})"
                                                  "\n"});

  bob->say("hello\nagain\n", s.now);
  const std::vector<std::string> heard = alice->take();
  REQUIRE(heard.size() == 2);
  CHECK(heard[0].find(R"("text":"hello")") != std::string::npos);
  CHECK(heard[1].find(R"("text":"again")") != std::string::npos);
  CHECK(bob->take().empty());  // no echo
}

TEST_CASE("a conversation keeps an unfinished line for the next input", "[conversation]") {
  scene s;
  auto carol = s.arrive();
  carol->take();
  CHECK(carol->say("car", s.now) == 3);
  CHECK_FALSE(carol->logged_in());
  carol->say("ol\n", s.now);
  CHECK(carol->logged_in());
}

TEST_CASE("a conversation that gives no name by the handshake deadline is closed with an error",
          "[conversation]") {
  scene s;
  auto silent = s.arrive();
  silent->take();
  CHECK(silent->next_deadline() == s.now + s.cfg.handshake_timeout);

  silent->on_deadline(s.now + 5s);  // early: nothing happens
  CHECK(silent->take().empty());
  CHECK_FALSE(silent->close_asked);

  silent->on_deadline(s.now + s.cfg.handshake_timeout);
  const std::vector<std::string> said = silent->take();
  REQUIRE(said.size() == 1);
  CHECK(said[0].starts_with("! error timeout"));
  CHECK(silent->close_asked);
}

TEST_CASE("a conversation refuses a line over --max-line and messages past the rate limit",
          "[conversation]") {
  scene s;
  s.cfg.max_line = 64;
  s.cfg.rate_limit = 1;
  s.cfg.rate_burst = 2;
  auto dave = s.arrive();
  dave->say("dave\n", s.now);
  dave->take();

  dave->say(std::string(100, 'x') + "\n", s.now);
  std::vector<std::string> said = dave->take();
  REQUIRE(said.size() == 1);
  CHECK(said[0].starts_with("! error line-too-long"));

  dave->say("one\ntwo\nthree\n", s.now);
  said = dave->take();
  REQUIRE(said.size() == 1);  // the first two went to the room, which is only dave
  CHECK(said[0].starts_with("! error rate-limited"));
}
