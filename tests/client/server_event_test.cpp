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
  CHECK(decode(protocol::encode_ping()).type == kind::ping);
}

TEST_CASE("server_event decodes rooms, topics, direct messages, nicks and history",
          "[server_event]") {
  const std::vector<std::string> users{"alice", "bob"};

  const auto welcome = decode(protocol::encode_welcome(json, "alice", "lobby", users, "hi all"));
  CHECK(welcome.type == kind::welcome);
  CHECK(welcome.topic == "hi all");
  CHECK(decode(protocol::encode_welcome(json, "alice", "lobby", users)).topic.empty());

  const auto joined = decode(protocol::encode_joined(json, "dev", users, "rust"));
  CHECK(joined.type == kind::joined);
  CHECK(joined.room == "dev");
  CHECK(joined.users == users);
  CHECK(joined.topic == "rust");
  CHECK(decode(protocol::encode_joined(json, "dev", users, "")).topic.empty());

  const auto left = decode(protocol::encode_left(json, "dev"));
  CHECK(left.type == kind::left);
  CHECK(left.room == "dev");

  const std::vector<protocol::room_summary> summaries{{"dev", 2, "rust"}, {"lobby", 1, ""}};
  const auto rooms = decode(protocol::encode_rooms(json, summaries));
  REQUIRE(rooms.type == kind::rooms);
  REQUIRE(rooms.rooms.size() == 2);
  CHECK(rooms.rooms[0].room == "dev");
  CHECK(rooms.rooms[0].users == 2);
  CHECK(rooms.rooms[0].topic == "rust");
  CHECK(rooms.rooms[1].room == "lobby");
  CHECK(rooms.rooms[1].users == 1);
  CHECK(rooms.rooms[1].topic.empty());

  const auto set = decode(protocol::encode_topic(json, "dev", "rust", "alice"));
  CHECK(set.type == kind::topic);
  CHECK(set.room == "dev");
  CHECK(set.topic == "rust");
  CHECK(set.by == "alice");
  const auto asked = decode(protocol::encode_topic(json, "dev", "", ""));
  CHECK(asked.type == kind::topic);
  CHECK(asked.topic.empty());
  CHECK(asked.by.empty());

  const auto direct =
      decode(protocol::encode_direct(json, 9, 1'700'000'000'000, "bob", "alice", "psst"));
  CHECK(direct.type == kind::direct);
  CHECK(direct.id == 9);
  CHECK(direct.ts_ms == 1'700'000'000'000);
  CHECK(direct.from == "bob");
  CHECK(direct.to == "alice");
  CHECK(direct.text == "psst");

  const auto nick = decode(protocol::encode_nick(json, "alice", "al"));
  CHECK(nick.type == kind::nick);
  CHECK(nick.from == "alice");
  CHECK(nick.to == "al");

  const auto live = decode(protocol::encode_message(json, {5, 10, "dev", "bob", "now"}));
  CHECK(live.type == kind::message);
  CHECK_FALSE(live.history);
  protocol::message_view old{4, 9, "dev", "bob", "before", true, /*history=*/true};
  const auto past = decode(protocol::encode_message(json, old));
  CHECK(past.type == kind::message);
  CHECK(past.history);
  CHECK(past.text == "before");

  const std::vector<protocol::message_view> page{{1, 100, "dev", "bob", "one"},
                                                 {2, 200, "dev", "carol", "two"}};
  const auto history = decode(protocol::encode_history_page("dev", page));
  REQUIRE(history.type == kind::history);
  CHECK(history.room == "dev");
  REQUIRE(history.messages.size() == 2);
  CHECK(history.messages[0].id == 1);
  CHECK(history.messages[0].ts_ms == 100);
  CHECK(history.messages[0].from == "bob");
  CHECK(history.messages[0].text == "one");
  CHECK(history.messages[1].from == "carol");
  CHECK(decode(protocol::encode_history_page("dev", {})).messages.empty());
}

TEST_CASE("server_event leaves what it cannot trust as other", "[server_event]") {
  for (const char* frame : {
           "* bob joined lobby",                                      // plain text
           "{not json",                                               // broken
           "[1,2]",                                                   // not an object
           R"({"type":"msg","id":1})",                                // missing fields
           R"({"type":"join","room":"lobby","user":7})",              // ill-typed field
           R"({"type":"users","room":"r","users":["a",1]})",          // ill-typed element
           R"({"type":"dm","from":"x"})",                             // missing fields
           R"({"type":"reaction","id":1})",                           // a newer server's envelope
           R"({"type":"joined","room":"dev","users":[],"topic":1})",  // ill-typed optional
           R"({"type":"msg","id":1,"ts":2,"room":"r","from":"a","text":"t","history":1})",
           R"({"type":"rooms","rooms":[{"room":"dev"}]})",  // an incomplete entry
           R"({"type":"history","room":"dev","messages":[{"id":1}]})",
           "USER ",  // not exactly the prompt
       }) {
    INFO(frame);
    CHECK(decode_server_event(frame).type == kind::other);
  }
}

// Written out rather than encoded: these frames are new (resume), and the
// client is held to PROTOCOL.md's words for them.
TEST_CASE("server_event decodes gaps, more markers and refs", "[server_event]") {
  const auto gap = decode_server_event(R"({"type":"gap","room":"dev","from":1234,"to":1500})");
  CHECK(gap.type == kind::gap);
  CHECK(gap.room == "dev");
  CHECK(gap.from_id == 1234);
  CHECK(gap.to_id == 1500);
  const auto more = decode_server_event(R"({"type":"more","room":"dev","after":1434})");
  CHECK(more.type == kind::more);
  CHECK(more.room == "dev");
  CHECK(more.after == 1434);
  CHECK(decode_server_event(R"({"type":"gap","room":"dev","from":1})").type == kind::other);
  CHECK(decode_server_event(R"({"type":"more","room":"dev"})").type == kind::other);

  const auto ack = decode_server_event(R"({"type":"ack","ref":7,"id":41})");
  CHECK(ack.type == kind::ack);
  CHECK(ack.ref == 7u);
  CHECK(ack.id == 41);
  CHECK_FALSE(decode_server_event(R"({"type":"ack","ref":{"n":1},"id":41})").ref);
  const auto unstored = decode_server_event(
      R"({"type":"error","code":"storage-unavailable","message":"not stored","ref":7})");
  CHECK(unstored.type == kind::error);
  CHECK(unstored.code == "storage-unavailable");
  CHECK(unstored.ref == 7u);
  const auto slow = decode_server_event(
      R"({"type":"error","code":"slow-consumer","message":"behind, last message id 9","last_id":9})");
  CHECK(slow.type == kind::error);
  CHECK(slow.last_id == 9);
  CHECK(decode_server_event(R"({"type":"error","code":"x","message":"m","last_id":"9"})").type ==
        kind::other);
}

TEST_CASE("server_event decodes the account events and a rate-limit's wait",
          "[server_event][accounts]") {
  const auto registered = decode(protocol::encode_account(json, "registered", "alice"));
  CHECK(registered.type == kind::registered);
  CHECK(registered.user == "alice");
  CHECK(decode(protocol::encode_account(json, "password-changed", "alice")).type ==
        kind::password_changed);
  const auto unregistered = decode(protocol::encode_account(json, "unregistered", "alice"));
  CHECK(unregistered.type == kind::unregistered);
  CHECK(unregistered.user == "alice");

  const auto limited = decode(
      protocol::encode_error(json, protocol::error_code::rate_limited, "too many attempts", 8));
  CHECK(limited.type == kind::error);
  CHECK(limited.code == "rate-limited");
  CHECK(limited.retry_after == 8u);
  CHECK_FALSE(decode(protocol::encode_error(json, protocol::error_code::rate_limited, "slow down"))
                  .retry_after);
  CHECK(decode_server_event(R"({"type":"registered"})").type == kind::other);
  CHECK(decode_server_event(
            R"({"type":"error","code":"rate-limited","message":"m","retry_after":"soon"})")
            .type == kind::other);
}
