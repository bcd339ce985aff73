#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include "client/render.hpp"
#include "client/server_event.hpp"
#include "protocol/error_code.hpp"
#include "protocol/event.hpp"

namespace {

using chat::client::decode_server_event;
namespace protocol = chat::protocol;
constexpr auto json = protocol::session_mode::json;
constexpr auto plain = protocol::session_mode::plain;

std::string without_lf(std::string frame) {
  frame.pop_back();
  return frame;
}

// What chat-client shows for a JSON frame.
std::string shown(const std::string& frame_with_lf) {
  const std::string frame = without_lf(frame_with_lf);
  return chat::client::render_event(decode_server_event(frame), frame);
}

}  // namespace

TEST_CASE("render_event reads like the server's plain sessions", "[render]") {
  const std::vector<std::string> users{"alice", "bob"};
  // Where the plain form exists, the client shows the same words.
  CHECK(shown(protocol::encode_welcome(json, "alice", "lobby", users)) ==
        without_lf(protocol::encode_welcome(plain, "alice", "lobby", users)));
  CHECK(shown(protocol::encode_join(json, "lobby", "bob")) ==
        without_lf(protocol::encode_join(plain, "lobby", "bob")));
  CHECK(shown(protocol::encode_leave(json, "lobby", "bob")) ==
        without_lf(protocol::encode_leave(plain, "lobby", "bob")));
  CHECK(shown(protocol::encode_users(json, "lobby", users)) ==
        without_lf(protocol::encode_users(plain, "lobby", users)));
  CHECK(shown(protocol::encode_error(json, protocol::error_code::bad_json, "not JSON")) ==
        without_lf(protocol::encode_error(plain, protocol::error_code::bad_json, "not JSON")));
  CHECK(shown(protocol::encode_shutdown(json)) == without_lf(protocol::encode_shutdown(plain)));
}

TEST_CASE("render_event stamps messages with the local time", "[render]") {
  const std::string line =
      shown(protocol::encode_message(json, 1, 1'700'000'000'000, "lobby", "bob", "hi there"));
  CHECK(std::regex_match(line, std::regex(R"(\[\d\d:\d\d\] bob: hi there)")));
}

TEST_CASE("render_event defuses terminal control sequences", "[render]") {
  const std::string line =
      shown(protocol::encode_message(json, 1, 0, "lobby", "eve", "\x1b[2Jgone\x07\tok\u009b"));
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line.find('\x07') == std::string::npos);
  CHECK(line.find("\u009b") == std::string::npos);
  CHECK(line.find("\xEF\xBF\xBD[2Jgone\xEF\xBF\xBD\tok\xEF\xBF\xBD") != std::string::npos);
  // Frames of unknown shape are shown as they came, defused too.
  CHECK(chat::client::render_event(decode_server_event("odd\x1b"), "odd\x1b") == "odd\xEF\xBF\xBD");
}
