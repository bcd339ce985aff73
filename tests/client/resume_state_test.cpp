#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "client/resume_state.hpp"
#include "client/server_event.hpp"

namespace {

using chat::client::decode_server_event;
using chat::client::resume_state;

// Frames as the server sends them, written out so that these tests do not
// depend on the server's encoders.
std::string welcome(const std::string& room) {
  return R"({"type":"welcome","user":"alice","room":")" + room + R"(","users":["alice"]})";
}
std::string joined(const std::string& room) {
  return R"({"type":"joined","room":")" + room + R"(","users":["alice"]})";
}
std::string message(const std::string& room, std::uint64_t id, bool history = false) {
  return R"({"type":"msg","id":)" + std::to_string(id) + R"(,"ts":1,"room":")" + room +
         R"(","from":"bob","text":"t)" + std::to_string(id) + "\"" +
         (history ? R"(,"history":true)" : "") + "}";
}

resume_state::outcome feed(resume_state& state, const std::string& frame) {
  return state.apply(decode_server_event(frame));
}

std::uint64_t through(const resume_state& state, const std::string& room) {
  const auto* c = state.find(room);
  REQUIRE(c != nullptr);
  return c->through;
}

std::vector<std::string> rooms_of(const resume_state& state) {
  std::vector<std::string> out;
  for (const auto& c : state.rooms()) out.push_back(c.room);
  return out;
}

}  // namespace

TEST_CASE("resume_state keeps the last id seen in each room", "[resume_state]") {
  resume_state state;
  feed(state, welcome("lobby"));
  // Recent history sent with the welcome counts: it has been shown.
  CHECK(feed(state, message("lobby", 3, /*history=*/true)).show);
  CHECK(through(state, "lobby") == 3);
  CHECK(feed(state, message("lobby", 7)).show);
  CHECK(through(state, "lobby") == 7);

  // A room joined later misses nothing at or below what we have seen live.
  feed(state, joined("dev"));
  CHECK(through(state, "dev") == 7);
  feed(state, message("dev", 9));
  feed(state, message("lobby", 10));
  CHECK(through(state, "dev") == 9);
  CHECK(through(state, "LOBBY") == 10);  // names ignore case

  // Our own message: its id comes with the ack of the ref we put on it, and
  // the ack is not shown.
  const std::uint64_t ref = state.sent("dev", "hello");
  CHECK(state.unconfirmed() == 1);
  const auto acked = feed(state, R"({"type":"ack","ref":)" + std::to_string(ref) + R"(,"id":12})");
  CHECK_FALSE(acked.show);
  CHECK(through(state, "dev") == 12);
  CHECK(through(state, "lobby") == 10);
  CHECK(state.unconfirmed() == 0);
  // Someone else's ref (a script's) is theirs to see.
  CHECK(feed(state, R"({"type":"ack","ref":"x","id":13})").show);

  // Older pages asked for with /history move nothing back.
  feed(state,
       R"({"type":"history","room":"dev","messages":[{"id":2,"ts":1,"from":"b","text":"x"}]})");
  CHECK(through(state, "dev") == 12);

  CHECK(rooms_of(state) == std::vector<std::string>{"lobby", "dev"});
  feed(state, R"({"type":"left","room":"Dev"})");
  CHECK(rooms_of(state) == std::vector<std::string>{"lobby"});
  // Joining again makes a room the last, keeping its cursor.
  feed(state, joined("ops"));
  feed(state, joined("lobby"));
  CHECK(rooms_of(state) == std::vector<std::string>{"ops", "lobby"});
  CHECK(through(state, "lobby") == 10);
}

TEST_CASE("resume_state names the message an error is about", "[resume_state]") {
  resume_state state;
  feed(state, welcome("lobby"));
  const std::uint64_t first = state.sent("lobby", "one");
  const std::uint64_t second = state.sent("lobby", "two");
  CHECK(second != first);
  const auto outcome =
      feed(state, R"({"type":"error","code":"storage-unavailable","message":"m","ref":)" +
                      std::to_string(second) + "}");
  CHECK(outcome.show);
  REQUIRE(outcome.about);
  CHECK(outcome.about->room == "lobby");
  CHECK(outcome.about->text == "two");
  CHECK(state.unconfirmed() == 1);
  // An error without a ref is about nothing in particular.
  CHECK_FALSE(feed(state, R"({"type":"error","code":"bad-request","message":"m"})").about);
}

TEST_CASE("resume_state during a replay resumes from the replay, not from live messages",
          "[resume_state]") {
  resume_state state;
  feed(state, welcome("lobby"));
  feed(state, message("lobby", 100));
  // The connection goes; a hello resumes lobby after 100.
  state.connection_lost();
  state.replay_requested("lobby", through(state, "lobby"));
  feed(state, welcome("lobby"));
  CHECK(feed(state, message("lobby", 101, true)).show);
  // Live messages flow meanwhile, above everything the replay will bring.
  CHECK(feed(state, message("lobby", 500)).show);
  CHECK(feed(state, message("lobby", 102, true)).show);
  CHECK(through(state, "lobby") == 102);

  // Lost again before the replay ended: the next one starts at 102 and
  // brings 500 again, which is not shown twice.
  state.connection_lost();
  state.replay_requested("lobby", through(state, "lobby"));
  CHECK(feed(state, message("lobby", 103, true)).show);
  CHECK_FALSE(feed(state, message("lobby", 500, true)).show);
  CHECK(feed(state, message("lobby", 501)).show);
  state.replay_answered("lobby");
  // Over: every message up to the last live one is in.
  CHECK(through(state, "lobby") == 501);
  CHECK(state.find("lobby")->seen_above.empty());
  CHECK(feed(state, message("lobby", 502)).show);
  CHECK(through(state, "lobby") == 502);
}

TEST_CASE("resume_state follows more markers and steps over gaps", "[resume_state]") {
  resume_state state;
  feed(state, welcome("lobby"));
  state.expect("dev", 1000);
  state.expect("dev", 5);  // tracked already: unchanged
  CHECK(through(state, "dev") == 1000);
  state.replay_requested("dev", 1000);
  feed(state, joined("dev"));

  // What the server no longer has is not asked for again.
  CHECK(feed(state, R"({"type":"gap","room":"dev","from":1000,"to":1200})").show);
  CHECK(through(state, "dev") == 1200);
  feed(state, message("dev", 1300, true));
  const auto more = feed(state, R"({"type":"more","room":"dev","after":1434})");
  CHECK(more.show);
  REQUIRE(more.follow);
  CHECK(*more.follow == R"({"type":"resume","room":"dev","after":1434})"
                        "\n");
  CHECK(through(state, "dev") == 1434);
  // A marker for a room we are not in asks for nothing.
  CHECK_FALSE(feed(state, R"({"type":"more","room":"ops","after":9})").follow);

  // Two requests in flight (the hello's and the follow-up): over after both.
  state.replay_requested("dev", 1434);
  feed(state, message("dev", 2000));
  state.replay_answered("dev");
  CHECK(through(state, "dev") == 1434);
  feed(state, message("dev", 1500, true));
  state.replay_answered("dev");
  CHECK(through(state, "dev") == 2000);
}

TEST_CASE("encode_resume_hello names every room with its cursor, up to the cap", "[resume_state]") {
  resume_state state;
  feed(state, welcome("lobby"));
  feed(state, message("lobby", 4));
  feed(state, joined("Dév"));
  feed(state, message("Dév", 9));
  CHECK(chat::client::encode_resume_hello("alice", state.rooms(), 64) ==
        R"({"type":"hello","user":"alice","resume":{"lobby":4,"Dév":9}})"
        "\n");
  CHECK(chat::client::encode_resume_hello("alice", state.rooms(), 1) ==
        R"({"type":"hello","user":"alice","resume":{"lobby":4}})"
        "\n");
}
