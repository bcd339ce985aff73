#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "protocol/event.hpp"
#include "protocol/request.hpp"

namespace {

using nlohmann::json;
namespace protocol = chat::protocol;
using protocol::error_code;
using protocol::session_mode;

// Text that needs every kind of escape, plus non-ASCII that must pass as is.
const std::string tricky =
    "\"quoted\" back\\slash tab\t cr\r nl\n ctl\x01 caf\xC3\xA9 \xF0\x9F\x99\x82";

// A frame is one line: exactly one LF, at the end. Returns it without the LF.
std::string one_line(const std::string& frame) {
  INFO("frame: " << frame);
  REQUIRE_FALSE(frame.empty());
  REQUIRE(frame.back() == '\n');
  REQUIRE(frame.find('\n') == frame.size() - 1);
  return frame.substr(0, frame.size() - 1);
}

json parse_frame(const std::string& frame) {
  const std::string line = one_line(frame);
  INFO("frame: " << line);
  json value = json::parse(line, nullptr, /*allow_exceptions=*/false);
  REQUIRE_FALSE(value.is_discarded());
  REQUIRE(value.is_object());
  return value;
}

const std::vector<std::string> users = {"Alice", "bob", "carol.x"};

}  // namespace

TEST_CASE("encode_prompt is the bare USER line", "[event]") {
  CHECK(protocol::encode_prompt() == "USER\n");
}

TEST_CASE("JSON server frames parse and carry exactly the documented fields", "[event]") {
  const auto json_mode = session_mode::json;

  SECTION("welcome") {
    CHECK(parse_frame(protocol::encode_welcome(json_mode, "bob", "lobby", users)) ==
          json{{"type", "welcome"}, {"user", "bob"}, {"room", "lobby"}, {"users", users}});
    const std::span<const std::string> nobody;
    CHECK(parse_frame(protocol::encode_welcome(json_mode, "solo", "lobby", nobody))["users"] ==
          json::array());
  }
  SECTION("welcome and joined of a large room count instead of listing") {
    CHECK(parse_frame(protocol::encode_welcome(json_mode, "bob", "lobby",
                                               protocol::member_count{5000}, "hi")) ==
          json{{"type", "welcome"},
               {"user", "bob"},
               {"room", "lobby"},
               {"count", 5000},
               {"topic", "hi"}});
    CHECK(parse_frame(protocol::encode_joined(json_mode, "dev", protocol::member_count{101}, "")) ==
          json{{"type", "joined"}, {"room", "dev"}, {"count", 101}});
  }
  SECTION("join and leave") {
    CHECK(parse_frame(protocol::encode_join(json_mode, "lobby", "alice")) ==
          json{{"type", "join"}, {"room", "lobby"}, {"user", "alice"}});
    CHECK(parse_frame(protocol::encode_leave(json_mode, "lobby", "alice")) ==
          json{{"type", "leave"}, {"room", "lobby"}, {"user", "alice"}});
  }
  SECTION("msg, with ids and timestamps of full width") {
    const std::uint64_t id = 18446744073709551615ULL;
    const std::int64_t ts = 1700000000123;
    const json frame =
        parse_frame(protocol::encode_message(json_mode, id, ts, "lobby", "alice", "hi there"));
    CHECK(frame == json{{"type", "msg"},
                        {"id", id},
                        {"ts", ts},
                        {"room", "lobby"},
                        {"from", "alice"},
                        {"text", "hi there"}});
    CHECK(frame["id"].is_number_unsigned());
    CHECK(frame["ts"].is_number_integer());
  }
  SECTION("users") {
    CHECK(parse_frame(protocol::encode_users(json_mode, "lobby", users)) ==
          json{{"type", "users"}, {"room", "lobby"}, {"users", users}});
  }
  SECTION("error, one per code") {
    const std::pair<error_code, const char*> codes[] = {
        {error_code::line_too_long, "line-too-long"},
        {error_code::bad_utf8, "bad-utf8"},
        {error_code::bad_name, "bad-name"},
        {error_code::name_taken, "name-taken"},
        {error_code::bad_json, "bad-json"},
        {error_code::bad_request, "bad-request"},
        {error_code::unknown_command, "unknown-command"},
        {error_code::slow_consumer, "slow-consumer"},
        {error_code::timeout, "timeout"},
        {error_code::password_required, "password-required"},
        {error_code::auth_failed, "auth-failed"},
        {error_code::bad_password, "bad-password"},
        {error_code::account_required, "account-required"},
        {error_code::accounts_unavailable, "accounts-unavailable"},
        {error_code::insecure_transport, "insecure-transport"},
        {error_code::session_replaced, "session-replaced"},
    };
    for (const auto& [code, text] : codes) {
      CHECK(protocol::to_string(code) == text);
      CHECK(parse_frame(protocol::encode_error(json_mode, code, "why")) ==
            json{{"type", "error"}, {"code", text}, {"message", "why"}});
    }
  }
  SECTION("shutdown and pong") {
    CHECK(parse_frame(protocol::encode_shutdown(json_mode)) ==
          json{{"type", "shutdown"}, {"reconnect", true}});
    CHECK(parse_frame(protocol::encode_pong()) == json{{"type", "pong"}});
  }
  SECTION("ack echoes the ref as given, whatever its JSON type") {
    for (const char* ref :
         {"null", "true", "7", "-2.5", R"("r-1")", "[1,[2]]", R"({"k":{"n":1}})"}) {
      INFO("ref " << ref);
      CHECK(parse_frame(protocol::encode_ack(ref, 42)) ==
            json{{"type", "ack"}, {"ref", json::parse(ref)}, {"id", 42}});
    }
  }
}

TEST_CASE("JSON frames escape what needs escaping and keep UTF-8 as is", "[event]") {
  const auto json_mode = session_mode::json;
  const std::vector<std::string> odd_users = {tricky, "plain"};

  CHECK(parse_frame(protocol::encode_message(json_mode, 1, 2, tricky, tricky, tricky)) ==
        json{{"type", "msg"},
             {"id", 1},
             {"ts", 2},
             {"room", tricky},
             {"from", tricky},
             {"text", tricky}});
  CHECK(parse_frame(protocol::encode_welcome(json_mode, tricky, tricky, odd_users)) ==
        json{{"type", "welcome"}, {"user", tricky}, {"room", tricky}, {"users", odd_users}});
  CHECK(parse_frame(protocol::encode_join(json_mode, tricky, tricky))["user"] == tricky);
  CHECK(parse_frame(protocol::encode_leave(json_mode, tricky, tricky))["room"] == tricky);
  CHECK(parse_frame(protocol::encode_users(json_mode, tricky, odd_users))["users"] == odd_users);
  CHECK(parse_frame(protocol::encode_error(json_mode, error_code::bad_request,
                                           tricky))["message"] == tricky);

  // The UTF-8 bytes travel unescaped: no \u sequences for non-ASCII.
  const std::string frame = protocol::encode_message(json_mode, 1, 2, "lobby", "a", "caf\xC3\xA9");
  CHECK(frame.find("caf\xC3\xA9") != std::string::npos);
}

TEST_CASE("plain server frames are the documented readable lines", "[event]") {
  const auto plain = session_mode::plain;
  CHECK(protocol::encode_welcome(plain, "bob", "lobby", users) ==
        "* welcome bob, you are in lobby with: Alice, bob, carol.x (/help lists commands)\n");
  CHECK(protocol::encode_welcome(plain, "bob", "lobby", protocol::member_count{5000}) ==
        "* welcome bob, you are in lobby with 5000 members (/who lists them) (/help lists "
        "commands)\n");
  CHECK(protocol::encode_joined(plain, "dev", protocol::member_count{101}, "rust") ==
        "* you joined dev with 101 members (/who lists them); topic: rust\n");
  CHECK(protocol::encode_join(plain, "lobby", "alice") == "* alice joined lobby\n");
  CHECK(protocol::encode_leave(plain, "lobby", "alice") == "* alice left lobby\n");
  CHECK(protocol::encode_message(plain, 9, 10, "lobby", "alice", "hi \"you\"") ==
        "alice: hi \"you\"\n");
  CHECK(protocol::encode_users(plain, "lobby", users) == "* users in lobby: Alice, bob, carol.x\n");
  CHECK(protocol::encode_error(plain, error_code::unknown_command, "try /help") ==
        "! error unknown-command: try /help\n");
  CHECK(protocol::encode_shutdown(plain) == "* server is shutting down\n");

  const std::string help = one_line(protocol::encode_help());
  CHECK(help.starts_with("* commands:"));
}

TEST_CASE("client requests encode to frames the server's decoders accept", "[event]") {
  SECTION("hello") {
    const std::string frame = protocol::encode_hello_request("alice");
    CHECK(parse_frame(frame) == json{{"type", "hello"}, {"user", "alice"}});
    const auto decoded = protocol::decode_hello(one_line(frame));
    REQUIRE(std::holds_alternative<protocol::hello>(decoded));
    CHECK(std::get<protocol::hello>(decoded).user == "alice");
    CHECK(std::get<protocol::hello>(decoded).json);
  }
  SECTION("msg without ref") {
    const std::string frame = protocol::encode_message_request("a \"b\" \xC3\xA9");
    CHECK(parse_frame(frame) == json{{"type", "msg"}, {"text", "a \"b\" \xC3\xA9"}});
    const auto decoded = protocol::decode_json_request(one_line(frame));
    REQUIRE(std::holds_alternative<protocol::any_request>(decoded));
    const auto& request = std::get<protocol::any_request>(decoded);
    REQUIRE(std::holds_alternative<protocol::request::message>(request));
    CHECK(std::get<protocol::request::message>(request).text == "a \"b\" \xC3\xA9");
    CHECK(std::get<protocol::request::message>(request).ref_json.empty());
  }
  SECTION("msg with ref") {
    const std::string frame = protocol::encode_message_request("hi", R"({"seq":3})");
    CHECK(parse_frame(frame) == json{{"type", "msg"}, {"text", "hi"}, {"ref", {{"seq", 3}}}});
  }
  SECTION("bare requests") {
    for (const char* type : {"ping", "who", "quit"}) {
      const std::string frame = protocol::encode_bare_request(type);
      CHECK(parse_frame(frame) == json{{"type", type}});
      CHECK(std::holds_alternative<protocol::any_request>(
          protocol::decode_json_request(one_line(frame))));
    }
  }
}

TEST_CASE("message, dm and ack frames are byte for byte what clients have always seen", "[event]") {
  // Clients may match these bytes (the order of fields, no spaces), so a
  // faster encoder must not change a single one.
  const auto json_mode = session_mode::json;
  CHECK(protocol::encode_message(json_mode, 7, 1700000000123, "lobby", "alice", "hi \"you\"") ==
        "{\"type\":\"msg\",\"id\":7,\"ts\":1700000000123,\"room\":\"lobby\",\"from\":\"alice\","
        "\"text\":\"hi \\\"you\\\"\"}\n");
  // Text with nothing to escape takes a shorter way; the frame is the same.
  CHECK(protocol::encode_message(json_mode, 7, 1700000000123, "lobby", "alice", "hi you") ==
        "{\"type\":\"msg\",\"id\":7,\"ts\":1700000000123,\"room\":\"lobby\",\"from\":\"alice\","
        "\"text\":\"hi you\"}\n");
  CHECK(protocol::encode_message(json_mode, 0, 0, "", "", "") ==
        "{\"type\":\"msg\",\"id\":0,\"ts\":0,\"room\":\"\",\"from\":\"\",\"text\":\"\"}\n");
  protocol::message_view old{18446744073709551615ULL, -1, "dev", "bob", "back\\slash"};
  old.history = true;
  CHECK(protocol::encode_message(json_mode, old) ==
        "{\"type\":\"msg\",\"id\":18446744073709551615,\"ts\":-1,\"room\":\"dev\",\"from\":"
        "\"bob\",\"text\":\"back\\\\slash\",\"history\":true}\n");
  old.text = "caf\xC3\xA9";
  old.ts_ms = -9223372036854775807LL - 1;
  CHECK(protocol::encode_message(json_mode, old) ==
        "{\"type\":\"msg\",\"id\":18446744073709551615,\"ts\":-9223372036854775808,\"room\":"
        "\"dev\",\"from\":\"bob\",\"text\":\"caf\xC3\xA9\",\"history\":true}\n");
  CHECK(protocol::encode_direct(json_mode, 0, 9223372036854775807LL, "a", "b", "x\ty") ==
        "{\"type\":\"dm\",\"id\":0,\"ts\":9223372036854775807,\"from\":\"a\",\"to\":\"b\","
        "\"text\":\"x\\ty\"}\n");
  CHECK(protocol::encode_ack(R"({"k":[1, 2]})", 18446744073709551615ULL) ==
        "{\"type\":\"ack\",\"ref\":{\"k\":[1, 2]},\"id\":18446744073709551615}\n");
  CHECK(protocol::encode_ack("-0.5", 1) == "{\"type\":\"ack\",\"ref\":-0.5,\"id\":1}\n");
}

TEST_CASE("a long message with escapes anywhere encodes to the text it was", "[event]") {
  // ASCII up to every place an escape goes, so no character is cut in two.
  const std::string filler =
      "the quick brown fox jumps over the lazy dog \xC3\xA9\xF0\x9F\x99\x82 ";
  for (std::size_t at = 0; at < 40; ++at) {
    std::string text = filler + filler;
    text.insert(at, tricky);
    INFO("escapes at " << at);
    const json frame =
        parse_frame(protocol::encode_message(session_mode::json, 1, 2, "lobby", "a", text));
    CHECK(frame["text"] == text);
    CHECK(parse_frame(protocol::encode_direct(session_mode::json, 1, 2, "a", "b", text))["text"] ==
          text);
  }
}

TEST_CASE("ids and timestamps are written exactly, whatever their number of digits", "[event]") {
  std::vector<std::uint64_t> ids = {0, UINT64_MAX, UINT64_MAX - 1};
  for (std::uint64_t power = 1; power <= UINT64_MAX / 10; power *= 10) {
    for (const std::uint64_t near : {power - 1, power, power + 1, power * 5, power * 10 - 1}) {
      ids.push_back(near);
    }
  }
  for (const std::uint64_t id : ids) {
    const auto ts = static_cast<std::int64_t>(id);  // negative past INT64_MAX
    const std::string expected_head = "{\"type\":\"msg\",\"id\":" + std::to_string(id) +
                                      ",\"ts\":" + std::to_string(ts) + ",\"room\":";
    INFO("id " << id << ", ts " << ts);
    CHECK(protocol::encode_message(session_mode::json, id, ts, "r", "f", "t")
              .starts_with(expected_head));
    const std::int64_t negated = ts == INT64_MIN ? ts : -ts;
    CHECK(protocol::encode_message(session_mode::json, id, negated, "r", "f", "t\"")
              .starts_with("{\"type\":\"msg\",\"id\":" + std::to_string(id) +
                           ",\"ts\":" + std::to_string(negated) + ",\"room\":"));
    CHECK(protocol::encode_direct(session_mode::json, id, ts, "a", "b", "t")
              .starts_with("{\"type\":\"dm\",\"id\":" + std::to_string(id) +
                           ",\"ts\":" + std::to_string(ts) + ",\"from\":"));
    CHECK(protocol::encode_ack("1", id) ==
          "{\"type\":\"ack\",\"ref\":1,\"id\":" + std::to_string(id) + "}\n");
  }
  CHECK(protocol::encode_message(session_mode::json, 1, INT64_MIN, "r", "f", "t")
            .starts_with("{\"type\":\"msg\",\"id\":1,\"ts\":-9223372036854775808,"));
}

TEST_CASE("account frames and errors with a retry time, in both forms", "[event][accounts]") {
  const auto json_mode = protocol::session_mode::json;
  const auto plain = protocol::session_mode::plain;
  CHECK(protocol::encode_password_prompt() == "PASS\n");
  CHECK(parse_frame(protocol::encode_account(json_mode, "registered", "alice")) ==
        json{{"type", "registered"}, {"user", "alice"}});
  CHECK(parse_frame(protocol::encode_account(json_mode, "password-changed", "alice")) ==
        json{{"type", "password-changed"}, {"user", "alice"}});
  CHECK(protocol::encode_account(plain, "unregistered", "alice") ==
        "* alice is no longer registered\n");
  CHECK(parse_frame(protocol::encode_error(json_mode, error_code::rate_limited, "wait", 3)) ==
        json{{"type", "error"}, {"code", "rate-limited"}, {"message", "wait"}, {"retry_after", 3}});
  CHECK(protocol::encode_error(plain, error_code::rate_limited, "wait", 3) ==
        "! error rate-limited: wait (try again in 3 s)\n");
}
