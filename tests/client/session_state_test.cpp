#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "client/server_event.hpp"
#include "client/session_state.hpp"
#include "protocol/event.hpp"

namespace {

using chat::client::decode_server_event;
using chat::client::session_state;
namespace protocol = chat::protocol;
constexpr auto json = protocol::session_mode::json;
using rooms = std::vector<std::string>;

void apply(session_state& where, std::string frame) {
  frame.pop_back();
  where.apply(decode_server_event(frame));
}

}  // namespace

TEST_CASE("session_state follows joins and leaves as the server applies them", "[session_state]") {
  session_state where;
  CHECK(where.current_room().empty());
  CHECK_FALSE(where.is_current("lobby"));

  apply(where, protocol::encode_welcome(json, "alice", "lobby", rooms{"alice"}));
  CHECK(where.current_room() == "lobby");
  CHECK(where.is_current("LOBBY"));

  apply(where, protocol::encode_joined(json, "dev", rooms{"alice"}, ""));
  apply(where, protocol::encode_joined(json, "ops", rooms{"alice"}, ""));
  CHECK(where.rooms() == rooms{"lobby", "dev", "ops"});
  CHECK(where.current_room() == "ops");

  // Joining a room again makes it current, and the last one joined.
  apply(where, protocol::encode_joined(json, "dev", rooms{"alice"}, ""));
  CHECK(where.rooms() == rooms{"lobby", "ops", "dev"});
  CHECK(where.current_room() == "dev");

  // Leaving another room leaves the current one as it is...
  apply(where, protocol::encode_left(json, "ops"));
  CHECK(where.current_room() == "dev");
  // ...leaving the current one falls back to the one joined last of the rest.
  apply(where, protocol::encode_joined(json, "ops", rooms{"alice"}, ""));
  apply(where, protocol::encode_left(json, "ops"));
  CHECK(where.current_room() == "dev");
  apply(where, protocol::encode_left(json, "Dev"));  // names ignore case
  CHECK(where.rooms() == rooms{"lobby"});
  CHECK(where.current_room() == "lobby");
  apply(where, protocol::encode_left(json, "lobby"));
  CHECK(where.current_room().empty());
  CHECK(where.rooms().empty());

  // Nothing else moves it.
  apply(where, protocol::encode_joined(json, "dev", rooms{"alice"}, ""));
  apply(where, protocol::encode_join(json, "lobby", "bob"));
  apply(where, protocol::encode_leave(json, "dev", "bob"));
  apply(where, protocol::encode_message(json, 1, 2, "lobby", "bob", "hi"));
  apply(where, protocol::encode_nick(json, "alice", "al"));
  CHECK(where.rooms() == rooms{"dev"});
}

TEST_CASE("session_state keeps one entry per room whatever its case", "[session_state]") {
  session_state where;
  apply(where, protocol::encode_welcome(json, "alice", "lobby", rooms{"alice"}));
  apply(where, protocol::encode_joined(json, "dev", rooms{"alice"}, ""));
  apply(where, protocol::encode_joined(json, "DEV", rooms{"alice"}, ""));
  CHECK(where.rooms() == rooms{"lobby", "DEV"});
  CHECK(where.is_current("dev"));
}
