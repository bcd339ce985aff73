// Connections that end abruptly at every stage: before the prompt, during
// the handshake, in the middle of a line, with a FIN or an RST. None may
// leave a ghost behind in the room.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

constexpr int churners = 50;

std::string hello(const std::string& name) {
  return json{{"type", "hello"}, {"user", name}}.dump();
}

// The room as one JSON member sees it through join and leave frames.
class room_watch {
public:
  explicit room_watch(line_client& member) : member_(member) {}

  // Reads frames until `name` has been seen leaving.
  void await_leave(const std::string& name) {
    while (!left_.contains(name)) take(read_json(member_));
    left_.erase(name);
  }

  // Asks the server who is in the room, reading past the frames before the answer.
  json who() {
    member_.send_line(R"({"type":"who"})");
    for (;;) {
      const json frame = read_json(member_);
      if (frame["type"] == "users") return frame["users"];
      take(frame);
    }
  }

private:
  void take(const json& frame) {
    INFO("frame " << frame.dump());
    if (frame["type"] == "leave") {
      left_.insert(frame["user"].get<std::string>());
    } else {
      // Joins are fine; anything else, like a half line relayed as a
      // message, is not.
      REQUIRE(frame["type"] == "join");
    }
  }

  line_client& member_;
  std::multiset<std::string> left_;
};

// Ends a joined client abruptly, in one of several ways.
void end_joined(line_client& client, int style, std::vector<line_client>& half_closed) {
  switch (style % 5) {
    case 0: client.close(); break;
    case 1: client.reset(); break;
    case 2:
      client.send_raw("half a li");
      client.close();
      break;
    case 3:
      client.send_raw("half a li");
      client.reset();
      break;
    case 4:
      // EOF from the client, while it still listens.
      client.shutdown_write();
      half_closed.push_back(std::move(client));
      break;
  }
}

// Starts a handshake and abandons it, in one of several ways. Returns true
// for the one way that sends a whole hello and so may get as far as joining.
bool abandon_handshake(std::uint16_t port, int style, const std::string& name) {
  line_client client(port);
  switch (style % 5) {
    case 0: client.close(); return false;
    case 1:
      expect_prompt(client);
      client.reset();
      return false;
    case 2:
      client.send_raw("hal");
      client.close();
      return false;
    case 3:
      expect_prompt(client);
      client.send_raw("{\"type\":\"hel");
      client.reset();
      return false;
    default:
      client.send_line(hello(name));
      client.reset();
      return true;
  }
}

}  // namespace

TEST_CASE("abrupt disconnects at any stage leave no ghost in who", "[churn]") {
  test_server server;
  line_client observer = join_json(server.port(), "observer");
  room_watch room(observer);

  std::vector<line_client> joined;
  std::vector<std::string> joined_names;
  for (int i = 0; i < churners; ++i) {
    joined_names.push_back("gone" + std::to_string(i));
    joined.push_back(i % 2 == 0 ? join_json(server.port(), joined_names.back())
                                : join_plain(server.port(), joined_names.back()));
  }
  REQUIRE(room.who().size() == churners + 1);

  // All at once, joined clients vanishing between abandoned handshakes.
  std::vector<line_client> half_closed;
  std::vector<std::string> racer_names;
  for (int i = 0; i < churners; ++i) {
    end_joined(joined[i], i, half_closed);
    const std::string racer_name = "racer" + std::to_string(i);
    if (abandon_handshake(server.port(), i, racer_name)) racer_names.push_back(racer_name);
  }

  for (const std::string& name : joined_names) room.await_leave(name);
  // The server answers a client's EOF by closing its side too.
  for (line_client& client : half_closed) CHECK_NOTHROW(client.read_until_eof());

  // A racer may have joined before its reset was noticed. Then its name is
  // taken only until its leave: claiming every racer name must succeed,
  // after at most that one leave.
  std::vector<line_client> claimers;
  std::set<std::string> expected = {"observer"};
  for (const std::string& name : racer_names) {
    INFO("claiming " << name);
    line_client claimer = server.connect();
    expect_prompt(claimer);
    claimer.send_line(hello(name));
    json answer = read_json(claimer);
    if (answer["type"] == "error") {
      CHECK(answer["code"] == "name-taken");
      CHECK(claimer.read_line() == "USER");
      room.await_leave(name);
      claimer.send_line(hello(name));
      answer = read_json(claimer);
    }
    CHECK(answer["type"] == "welcome");
    claimers.push_back(std::move(claimer));
    expected.insert(name);
  }

  CHECK(room.who() == json(expected));
}
