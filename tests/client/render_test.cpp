#include <catch2/catch.hpp>

#include <ctime>
#include <regex>
#include <string>
#include <vector>

#include "client/render.hpp"
#include "client/server_event.hpp"
#include "client/session_state.hpp"
#include "protocol/error_code.hpp"
#include "protocol/event.hpp"

namespace {

using chat::client::decode_server_event;
using chat::client::session_state;
namespace protocol = chat::protocol;
constexpr auto json = protocol::session_mode::json;
constexpr auto plain = protocol::session_mode::plain;

std::string without_lf(std::string frame) {
  frame.pop_back();
  return frame;
}

// A session in `rooms`, the last one current, as the server's answers leave it.
session_state in_rooms(const std::vector<std::string>& rooms) {
  session_state where;
  where.apply(decode_server_event(
      without_lf(protocol::encode_welcome(json, "alice", rooms.front(), rooms))));
  for (std::size_t i = 1; i < rooms.size(); ++i) {
    where.apply(decode_server_event(
        without_lf(protocol::encode_joined(json, rooms[i], std::span<const std::string>{}, {}))));
  }
  return where;
}

// What chat-client shows for a JSON frame, by default to a session in lobby
// alone.
std::string shown(const std::string& frame_with_lf,
                  const session_state& where = in_rooms({"lobby"})) {
  const std::string frame = without_lf(frame_with_lf);
  return chat::client::render_event(decode_server_event(frame), frame, where);
}

bool matches(const std::string& line, const char* pattern) {
  return std::regex_match(line, std::regex(pattern));
}

}  // namespace

TEST_CASE("render_event reads like the server's plain sessions", "[render]") {
  const std::vector<std::string> users{"alice", "bob"};
  // Where the plain form exists, the client shows the same words.
  CHECK(shown(protocol::encode_welcome(json, "alice", "lobby", users)) ==
        without_lf(protocol::encode_welcome(plain, "alice", "lobby", users)));
  CHECK(shown(protocol::encode_welcome(json, "alice", "lobby", users, "be nice")) ==
        without_lf(protocol::encode_welcome(plain, "alice", "lobby", users, "be nice")));
  CHECK(shown(protocol::encode_join(json, "lobby", "bob")) ==
        without_lf(protocol::encode_join(plain, "lobby", "bob")));
  CHECK(shown(protocol::encode_leave(json, "lobby", "bob")) ==
        without_lf(protocol::encode_leave(plain, "lobby", "bob")));
  CHECK(shown(protocol::encode_users(json, "lobby", users)) ==
        without_lf(protocol::encode_users(plain, "lobby", users)));
  CHECK(shown(protocol::encode_error(json, protocol::error_code::bad_json, "not JSON")) ==
        without_lf(protocol::encode_error(plain, protocol::error_code::bad_json, "not JSON")));
  CHECK(shown(protocol::encode_shutdown(json)) == without_lf(protocol::encode_shutdown(plain)));

  const auto dev = in_rooms({"lobby", "dev"});
  CHECK(shown(protocol::encode_joined(json, "dev", users, "rust"), dev) ==
        without_lf(protocol::encode_joined(plain, "dev", users, "rust")));
  CHECK(shown(protocol::encode_joined(json, "dev", users, ""), dev) ==
        without_lf(protocol::encode_joined(plain, "dev", users, "")));
  // A large room is counted, not listed.
  const protocol::member_count crowd{5000};
  CHECK(shown(protocol::encode_welcome(json, "alice", "lobby", crowd, "be nice")) ==
        without_lf(protocol::encode_welcome(plain, "alice", "lobby", crowd, "be nice")));
  CHECK(shown(protocol::encode_joined(json, "dev", crowd, ""), dev) ==
        without_lf(protocol::encode_joined(plain, "dev", crowd, "")));
  CHECK(shown(protocol::encode_topic(json, "dev", "rust", "bob"), dev) ==
        without_lf(protocol::encode_topic(plain, "dev", "rust", "bob")));
  CHECK(shown(protocol::encode_topic(json, "dev", "rust", ""), dev) ==
        without_lf(protocol::encode_topic(plain, "dev", "rust", "")));
  CHECK(shown(protocol::encode_topic(json, "dev", "", ""), dev) ==
        without_lf(protocol::encode_topic(plain, "dev", "", "")));
  CHECK(shown(protocol::encode_topic(json, "dev", "", "bob"), dev) ==
        without_lf(protocol::encode_topic(plain, "dev", "", "bob")));
  CHECK(shown(protocol::encode_nick(json, "alice", "al")) ==
        without_lf(protocol::encode_nick(plain, "alice", "al")));
  for (const auto code : {protocol::error_code::not_in_room, protocol::error_code::no_such_user,
                          protocol::error_code::rate_limited}) {
    CHECK(shown(protocol::encode_error(json, code, "why")) ==
          without_lf(protocol::encode_error(plain, code, "why")));
  }
}

TEST_CASE("render_event says what changed where the plain form cannot", "[render]") {
  // Leaving says which room is current now, as the session applied it.
  CHECK(shown(protocol::encode_left(json, "dev"), in_rooms({"lobby"})) ==
        "* you left dev; your current room is lobby");
  CHECK(shown(protocol::encode_left(json, "lobby"), session_state{}) ==
        "* you left lobby; you are in no room now (/join one)");

  const std::vector<protocol::room_summary> rooms{{"dev", 2, "rust"}, {"lobby", 1, ""}};
  CHECK(shown(protocol::encode_rooms(json, rooms)) == "* rooms: dev (2; topic: rust), lobby (1)");
  CHECK(shown(protocol::encode_rooms(json, {})) == "* rooms: (none)");
}

TEST_CASE("render_event stamps messages with the local time", "[render]") {
  const std::string line =
      shown(protocol::encode_message(json, 1, 1'700'000'000'000, "lobby", "bob", "hi there"));
  CHECK(matches(line, R"(\[\d\d:\d\d\] bob: hi there)"));
}

TEST_CASE("render_event names the room of messages not from the current one", "[render]") {
  const auto dev = in_rooms({"lobby", "dev"});
  const auto message = [](const char* room) {
    return protocol::encode_message(json, 1, 1'700'000'000'000, room, "bob", "hi");
  };
  CHECK(matches(shown(message("dev"), dev), R"(\[\d\d:\d\d\] bob: hi)"));
  CHECK(matches(shown(message("DEV"), dev), R"(\[\d\d:\d\d\] bob: hi)"));  // names ignore case
  CHECK(matches(shown(message("lobby"), dev), R"(\[\d\d:\d\d\] \[#lobby\] bob: hi)"));
  CHECK(matches(shown(message("lobby")), R"(\[\d\d:\d\d\] bob: hi)"));
  // A room called dm does not pass for a direct message.
  CHECK(matches(shown(message("dm"), dev), R"(\[\d\d:\d\d\] \[#dm\] bob: hi)"));
  // After the time, the words of a plain session that is not in the room's default.
  CHECK(shown(message("lobby"), dev)
            .ends_with(without_lf(protocol::encode_message(
                plain, {1, 1'700'000'000'000, "lobby", "bob", "hi", /*plain_names_room=*/true}))));
}

TEST_CASE("render_event sets direct messages and history apart", "[render]") {
  const auto dev = in_rooms({"lobby", "dev"});
  const std::int64_t now_ms = static_cast<std::int64_t>(std::time(nullptr)) * 1000;

  CHECK(matches(shown(protocol::encode_direct(json, 3, now_ms, "bob", "alice", "psst")),
                R"(\[\d\d:\d\d\] \[dm\] bob: psst)"));
  CHECK(shown(protocol::encode_direct(json, 3, now_ms, "bob", "alice", "psst"))
            .ends_with(
                without_lf(protocol::encode_direct(plain, 3, now_ms, "bob", "alice", "psst"))));

  // History from today shows the time, older history the day too.
  const auto past = [](std::int64_t ts_ms, const char* room) {
    return protocol::encode_message(json, {1, ts_ms, room, "bob", "earlier", true, true});
  };
  CHECK(matches(shown(past(now_ms, "dev"), dev), R"(\[history\] \[\d\d:\d\d\] bob: earlier)"));
  CHECK(matches(shown(past(1'700'000'000'000, "dev"), dev),
                R"(\[history\] \[2023-11-1\d \d\d:\d\d\] bob: earlier)"));
  CHECK(matches(shown(past(now_ms, "lobby"), dev),
                R"(\[history\] \[\d\d:\d\d\] \[#lobby\] bob: earlier)"));

  const std::vector<protocol::message_view> page{{7, now_ms, "dev", "bob", "one"},
                                                 {8, now_ms, "dev", "carol", "two\x1b"}};
  const std::string lines = shown(protocol::encode_history_page("dev", page), dev);
  CHECK(matches(lines,
                "\\* history of dev: 2 messages\n"
                R"(\[history\] \[\d\d:\d\d\] bob: one)"
                "\n"
                R"(\[history\] \[\d\d:\d\d\] carol: two\xEF\xBF\xBD)"));
  CHECK(shown(protocol::encode_history_page("dev", {}), dev) == "* history of dev: no messages");
  CHECK(shown(protocol::encode_history_page("dev", {page.data(), 1}), dev)
            .starts_with("* history of dev: 1 message\n"));
}

TEST_CASE("render_event defuses terminal control sequences", "[render]") {
  const std::string line =
      shown(protocol::encode_message(json, 1, 0, "lobby", "eve", "\x1b[2Jgone\x07\tok\u009b"));
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line.find('\x07') == std::string::npos);
  CHECK(line.find("\u009b") == std::string::npos);
  CHECK(line.find("\xEF\xBF\xBD[2Jgone\xEF\xBF\xBD\tok\xEF\xBF\xBD") != std::string::npos);
  // Frames of unknown shape are shown as they came, defused too.
  CHECK(chat::client::render_event(decode_server_event("odd\x1b"), "odd\x1b", session_state{}) ==
        "odd\xEF\xBF\xBD");
}

TEST_CASE("render_event shows gaps as the server's plain sessions do", "[render]") {
  CHECK(shown(R"({"type":"gap","room":"dev","from":1234,"to":1500})"
              "\n") == "* messages in dev after 1234 up to 1500 may be missing");
  // chat-client follows a more marker itself; were it shown, it says so.
  CHECK(shown(R"({"type":"more","room":"dev","after":1434})"
              "\n") == "* more in dev after 1434 (being fetched)");
}

TEST_CASE("render_error_about names the message an error is about", "[render]") {
  const std::string frame =
      R"({"type":"error","code":"storage-unavailable","message":"your message was delivered but could not be stored","ref":3})";
  const auto event = decode_server_event(frame);
  CHECK(chat::client::render_error_about(event, "dev", "hello") ==
        "! error storage-unavailable: your message was delivered but could not be stored"
        " (your message to dev: \"hello\")");
  // A long one is cut, not inside a UTF-8 sequence, and defused.
  const std::string text = std::string(39, 'a') + "é and more\x1b";
  CHECK(chat::client::render_error_about(event, "dev", text)
            .ends_with("(your message to dev: \"" + std::string(39, 'a') + "...\")"));
  CHECK(chat::client::render_error_about(event, "dev", "x\x1b").ends_with("x\xEF\xBF\xBD\")"));
}

TEST_CASE("render_event says what the account requests did, and how long to wait",
          "[render][accounts]") {
  CHECK(shown(protocol::encode_account(json, "registered", "alice")) ==
        "* you are registered as alice: log in with your password from now on");
  CHECK(shown(protocol::encode_account(json, "password-changed", "alice")) ==
        "* your password for alice is changed");
  CHECK(shown(protocol::encode_account(json, "unregistered", "alice")) ==
        "* alice is no longer registered; you go on as a guest");
  CHECK(shown(protocol::encode_error(json, protocol::error_code::rate_limited, "wait", 4)) ==
        "! error rate-limited: wait (try again in 4 s)");
  CHECK(shown(protocol::encode_error(json, protocol::error_code::auth_failed, "wrong password")) ==
        "! error auth-failed: wrong password");
}
