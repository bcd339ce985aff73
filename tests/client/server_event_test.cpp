#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "client/server_event.hpp"
#include "protocol/error_code.hpp"
#include "protocol/event.hpp"

namespace {

using chat::client::decode_server_event;
using chat::client::server_event;
using kind = server_event::kind;
namespace protocol = chat::protocol;
constexpr auto json = protocol::session_mode::json;

// The server's own encoders produce the frames, so the client is held to
// exactly what the server sends.
server_event decode(std::string frame) {
  REQUIRE(frame.back() == '\n');
  frame.pop_back();
  return decode_server_event(frame);
}

}  // namespace

TEST_CASE("server_event decodes every frame the server sends", "[server_event]") {
  const std::vector<std::string> users{"alice", "bob"};

  CHECK(decode(protocol::encode_prompt()).type == kind::prompt);

  const auto welcome = decode(protocol::encode_welcome(json, "alice", "lobby", users));
  CHECK(welcome.type == kind::welcome);
  CHECK(welcome.user == "alice");
  CHECK(welcome.room == "lobby");
  CHECK(welcome.users == users);

  const auto join = decode(protocol::encode_join(json, "lobby", "carol"));
  CHECK(join.type == kind::join);
  CHECK(join.user == "carol");
  CHECK(join.room == "lobby");
  CHECK(decode(protocol::encode_leave(json, "lobby", "carol")).type == kind::leave);

  const auto message =
      decode(protocol::encode_message(json, 42, 1'700'000'000'123, "lobby", "bob", "h\"i\u00e9"));
  CHECK(message.type == kind::message);
  CHECK(message.id == 42);
  CHECK(message.ts_ms == 1'700'000'000'123);
  CHECK(message.from == "bob");
  CHECK(message.text == "h\"i\u00e9");

  const auto ack = decode(protocol::encode_ack(R"({"n":[1]})", 7));
  CHECK(ack.type == kind::ack);
  CHECK(ack.id == 7);

  const auto who = decode(protocol::encode_users(json, "lobby", users));
  CHECK(who.type == kind::users);
  CHECK(who.users == users);

  const auto error =
      decode(protocol::encode_error(json, protocol::error_code::name_taken, "taken"));
  CHECK(error.type == kind::error);
  CHECK(error.code == "name-taken");
  CHECK(error.text == "taken");

  CHECK(decode(protocol::encode_shutdown(json)).type == kind::shutdown);
  CHECK(decode(protocol::encode_pong()).type == kind::pong);
}

TEST_CASE("server_event leaves what it cannot trust as other", "[server_event]") {
  for (const char* frame : {
           "* bob joined lobby",                             // plain text
           "{not json",                                      // broken
           "[1,2]",                                          // not an object
           R"({"type":"msg","id":1})",                       // missing fields
           R"({"type":"join","room":"lobby","user":7})",     // ill-typed field
           R"({"type":"users","room":"r","users":["a",1]})", // ill-typed element
           R"({"type":"dm","from":"x"})",                    // a newer server's envelope
           "USER ",                                          // not exactly the prompt
       }) {
    INFO(frame);
    CHECK(decode_server_event(frame).type == kind::other);
  }
}
