#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "client/input_action.hpp"
#include "protocol/event.hpp"

namespace {

using namespace chat::client;
namespace protocol = chat::protocol;

send_frame sent(std::string_view line, input_mode mode) {
  const auto action = interpret_input(line, mode);
  REQUIRE(std::holds_alternative<send_frame>(action));
  return std::get<send_frame>(action);
}

local_reply answered(std::string_view line, input_mode mode) {
  const auto action = interpret_input(line, mode);
  REQUIRE(std::holds_alternative<local_reply>(action));
  return std::get<local_reply>(action);
}

}  // namespace

TEST_CASE("chat input: commands, escaped slashes and messages", "[input_action]") {
  constexpr auto chat = input_mode::chat;
  CHECK(sent("hello", chat).frame == protocol::encode_message_request("hello"));
  CHECK_FALSE(sent("hello", chat).quits);
  CHECK(sent("/who", chat).frame == protocol::encode_bare_request("who"));
  CHECK(sent("/quit", chat).frame == protocol::encode_bare_request("quit"));
  CHECK(sent("/quit", chat).quits);
  CHECK(sent("//etc/passwd", chat).frame == protocol::encode_message_request("/etc/passwd"));
  CHECK(sent("{\"type\":\"who\"}", chat).frame ==
        protocol::encode_message_request("{\"type\":\"who\"}"));

  const auto help = answered("/help", chat);
  CHECK(help.text.starts_with("* commands:"));
  CHECK_FALSE(help.is_error);
  const auto unknown = answered("/qiut", chat);
  CHECK(unknown.is_error);
  CHECK(unknown.text.find("/qiut") != std::string::npos);
  CHECK(answered("caf\xe9", chat).is_error);  // Latin-1, not UTF-8
}

TEST_CASE("json input: requests pass through, other lines are messages", "[input_action]") {
  constexpr auto json = input_mode::json;
  CHECK(sent(R"({"type":"ping"})", json).frame == "{\"type\":\"ping\"}\n");
  CHECK(sent("{broken", json).frame == "{broken\n");
  CHECK(sent(R"({"type":"quit"})", json).quits);
  // Only a line that starts with `{` is a request.
  CHECK(sent(R"( {"type":"quit"})", json).frame ==
        protocol::encode_message_request(R"( {"type":"quit"})"));
  CHECK_FALSE(sent(R"({"type":"who"})", json).quits);
  CHECK_FALSE(sent(R"({"type":["quit"]})", json).quits);
  CHECK(sent("/who", json).frame == protocol::encode_message_request("/who"));
  CHECK(sent("hi", json).frame == protocol::encode_message_request("hi"));
}
