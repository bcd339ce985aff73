#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

#include "client/input_action.hpp"
#include "protocol/event.hpp"

namespace {

using namespace chat::client;
namespace protocol = chat::protocol;

using json = nlohmann::json;

send_frame sent(std::string_view line, input_mode mode, std::string_view current_room = {}) {
  const auto action = interpret_input(line, mode, current_room);
  REQUIRE(std::holds_alternative<send_frame>(action));
  return std::get<send_frame>(action);
}

local_reply answered(std::string_view line, input_mode mode, std::string_view current_room = {}) {
  const auto action = interpret_input(line, mode, current_room);
  REQUIRE(std::holds_alternative<local_reply>(action));
  return std::get<local_reply>(action);
}

// The request a chat line in room dev sends, parsed; the frame must be one
// line, ended by LF.
json request_for(std::string_view line) {
  const std::string frame = sent(line, input_mode::chat, "dev").frame;
  REQUIRE(frame.ends_with('\n'));
  REQUIRE(frame.find('\n') == frame.size() - 1);
  return json::parse(frame);
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

TEST_CASE("chat input: messages go to the current room", "[input_action]") {
  CHECK(request_for("hello") == json{{"type", "msg"}, {"room", "dev"}, {"text", "hello"}});
  CHECK(request_for("//join x") == json{{"type", "msg"}, {"room", "dev"}, {"text", "/join x"}});
  // In no room: the server's answer (not-in-room) says so.
  CHECK(sent("hello", input_mode::chat, "").frame == protocol::encode_message_request("hello"));
  // The frame reads "type" first, as PROTOCOL.md lists members.
  CHECK(sent("hi", input_mode::chat, "dev").frame ==
        "{\"type\":\"msg\",\"room\":\"dev\",\"text\":\"hi\"}\n");
  // Scripts address rooms themselves.
  CHECK(sent("hello", input_mode::json, "dev").frame == protocol::encode_message_request("hello"));
}

TEST_CASE("chat input: room commands", "[input_action]") {
  CHECK(request_for("/join ops") == json{{"type", "join"}, {"room", "ops"}});
  CHECK(request_for("/join #ops extra") == json{{"type", "join"}, {"room", "#ops"}});
  CHECK(request_for("/leave") == json{{"type", "leave"}, {"room", "dev"}});
  CHECK(request_for("/leave   lobby") == json{{"type", "leave"}, {"room", "lobby"}});
  CHECK(request_for("/rooms") == json{{"type", "rooms"}});
  CHECK(request_for("/who") == json{{"type", "who"}, {"room", "dev"}});
  CHECK(request_for("/who lobby") == json{{"type", "who"}, {"room", "lobby"}});
  CHECK(request_for("/topic") == json{{"type", "topic"}, {"room", "dev"}});
  CHECK(request_for("/topic all about \"dev\"") ==
        json{{"type", "topic"}, {"room", "dev"}, {"text", "all about \"dev\""}});
  CHECK(request_for("/history") == json{{"type", "history"}, {"room", "dev"}});
  CHECK(request_for("/history 200") == json{{"type", "history"}, {"room", "dev"}, {"limit", 200}});

  // Only a join or a leave can change the current room: lines typed after
  // them wait for the answer.
  CHECK(sent("/join ops", input_mode::chat, "dev").changes_room);
  CHECK(sent("/leave", input_mode::chat, "dev").changes_room);
  for (const char* line :
       {"hi", "/who", "/rooms", "/topic x", "/msg bob x", "/nick al", "/history"}) {
    INFO(line);
    CHECK_FALSE(sent(line, input_mode::chat, "dev").changes_room);
    CHECK_FALSE(sent(line, input_mode::chat, "dev").quits);
  }

  // In no room, the server is asked about its current room and says.
  CHECK(sent("/leave", input_mode::chat, "").frame == protocol::encode_bare_request("leave"));
  CHECK(sent("/who", input_mode::chat, "").frame == protocol::encode_bare_request("who"));
}

TEST_CASE("chat input: direct messages and names", "[input_action]") {
  CHECK(request_for("/msg bob see  you there") ==
        json{{"type", "dm"}, {"to", "bob"}, {"text", "see  you there"}});
  CHECK(request_for("/msg   bob   hi") == json{{"type", "dm"}, {"to", "bob"}, {"text", "hi"}});
  CHECK(request_for("/nick al") == json{{"type", "nick"}, {"user", "al"}});
  // The server judges names, as for any session.
  CHECK(request_for("/nick b@d") == json{{"type", "nick"}, {"user", "b@d"}});
}

TEST_CASE("chat input: a command without what it needs is answered locally", "[input_action]") {
  for (const char* line :
       {"/join", "/join  ", "/msg", "/msg bob", "/msg bob  ", "/nick", "/history 0", "/history 201",
        "/history ten", "/history -1", "/history 5x"}) {
    INFO(line);
    const auto reply = answered(line, input_mode::chat, "dev");
    CHECK(reply.is_error);
    const std::string command = std::string(line).substr(0, std::string_view(line).find(' '));
    CHECK(reply.text.starts_with("! usage: " + command + " "));
  }
}

TEST_CASE("chat input: /help lists every command", "[input_action]") {
  const auto help = answered("/help", input_mode::chat, "dev");
  CHECK_FALSE(help.is_error);
  CHECK(help.text == help_text());
  CHECK_FALSE(help.text.ends_with('\n'));
  for (const char* command :
       {"/join ROOM", "/leave [ROOM]", "/rooms", "/who [ROOM]", "/topic [TEXT]", "/msg NAME TEXT",
        "/nick NAME", "/history [N]", "/resume ROOM ID", "/help", "/quit", "//"}) {
    INFO(command);
    CHECK(help.text.find(command) != std::string::npos);
  }
}

TEST_CASE("chat input: a message carries the ref it is given; nothing else does",
          "[input_action]") {
  const auto message = std::get<send_frame>(interpret_input("hi", input_mode::chat, "dev", 7));
  CHECK(json::parse(message.frame) ==
        json{{"type", "msg"}, {"room", "dev"}, {"text", "hi"}, {"ref", 7}});
  CHECK(message.ref == 7);
  CHECK(message.room == "dev");
  CHECK(message.text == "hi");
  // Without a room there is no message to follow: the server says not-in-room.
  CHECK(std::get<send_frame>(interpret_input("hi", input_mode::chat, "", 7)).ref == 0);
  const auto join = std::get<send_frame>(interpret_input("/join ops", input_mode::chat, "dev", 7));
  CHECK(join.ref == 0);
  CHECK_FALSE(json::parse(join.frame).contains("ref"));
  // A script's lines go as they are.
  const auto raw = std::get<send_frame>(interpret_input("hi", input_mode::json, "dev", 7));
  CHECK(raw.ref == 0);
  CHECK_FALSE(json::parse(raw.frame).contains("ref"));
}

TEST_CASE("json input: a script's ping is marked as wanting its pong", "[input_action]") {
  CHECK(sent(R"({"type":"ping"})", input_mode::json).asks_pong);
  CHECK_FALSE(sent(R"({"type":"who"})", input_mode::json).asks_pong);
  CHECK_FALSE(sent(R"({"type":"ping")", input_mode::json).asks_pong);
}

TEST_CASE("chat input: /resume ROOM ID asks for a replay, joining the room", "[input_action]") {
  const auto request = sent("/resume ops 1234", input_mode::chat, "dev");
  CHECK(json::parse(request.frame) == json{{"type", "resume"}, {"room", "ops"}, {"after", 1234}});
  CHECK(request.changes_room);
  CHECK(request.resume_room == "ops");
  CHECK(request.resume_after == 1234);
  CHECK(sent("hi", input_mode::chat, "dev").resume_room.empty());
  for (const char* bad : {"/resume", "/resume ops", "/resume ops x", "/resume ops -1"}) {
    INFO(bad);
    CHECK(answered(bad, input_mode::chat, "dev").text.find("/resume ROOM ID") != std::string::npos);
  }
}

TEST_CASE("chat input: account commands send their requests and say what they set",
          "[input_action][accounts]") {
  CHECK(request_for("/register pass word 1") ==
        json{{"type", "register"}, {"password", "pass word 1"}});
  const auto registering = sent("/register secret123", input_mode::chat);
  REQUIRE(registering.account);
  CHECK(registering.account->password == "secret123");

  CHECK(request_for("/password old1234x new pass") ==
        json{{"type", "password"}, {"old", "old1234x"}, {"new", "new pass"}});
  const auto changing = sent("/password old1234x new pass", input_mode::chat);
  REQUIRE(changing.account);
  CHECK(changing.account->password == "new pass");

  CHECK(request_for("/unregister secret123") ==
        json{{"type", "unregister"}, {"password", "secret123"}});
  const auto leaving = sent("/unregister secret123", input_mode::chat);
  REQUIRE(leaving.account);
  CHECK(leaving.account->password.empty());

  CHECK_FALSE(sent("/who", input_mode::chat).account);
  CHECK_FALSE(sent("hello", input_mode::chat, "dev").account);
  CHECK(answered("/register", input_mode::chat).is_error);
  CHECK(answered("/password onlyone", input_mode::chat).is_error);
  CHECK(answered("/unregister", input_mode::chat).is_error);
  CHECK(help_text().find("/register") != std::string::npos);
}

TEST_CASE("json input: a script's account requests say what they set", "[input_action][accounts]") {
  const auto registering = sent(R"({"type":"register","password":"secret123"})", input_mode::json);
  CHECK(registering.frame == "{\"type\":\"register\",\"password\":\"secret123\"}\n");
  REQUIRE(registering.account);
  CHECK(registering.account->password == "secret123");
  const auto changing =
      sent(R"({"type":"password","old":"secret123","new":"other456"})", input_mode::json);
  REQUIRE(changing.account);
  CHECK(changing.account->password == "other456");
  const auto leaving = sent(R"({"type":"unregister","password":"x"})", input_mode::json);
  REQUIRE(leaving.account);
  CHECK(leaving.account->password.empty());
  CHECK_FALSE(sent(R"({"type":"who"})", input_mode::json).account);
  CHECK_FALSE(sent(R"({"type":"register")", input_mode::json).account);
}
