#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "client/login_policy.hpp"
#include "protocol/event.hpp"

namespace {

using namespace chat::client;
using json = nlohmann::json;

json parsed(const std::string& frame) {
  REQUIRE(frame.ends_with('\n'));
  REQUIRE(frame.find('\n') == frame.size() - 1);
  return json::parse(frame);
}

}  // namespace

TEST_CASE("login hello: a guest's is the plain hello", "[login_policy]") {
  CHECK(encode_login_hello({"alice", {}}) == chat::protocol::encode_hello_request("alice"));
  // Without a password there is nothing to register.
  CHECK(parsed(encode_login_hello({"alice", {}, true})) ==
        json{{"type", "hello"}, {"user", "alice"}});
}

TEST_CASE("login hello: password, register and resume, each when asked", "[login_policy]") {
  CHECK(parsed(encode_login_hello({"alice", "pass \"word\""})) ==
        json{{"type", "hello"}, {"user", "alice"}, {"password", "pass \"word\""}});
  CHECK(parsed(encode_login_hello({"alice", "secret123", true})) ==
        json{{"type", "hello"}, {"user", "alice"}, {"password", "secret123"}, {"register", true}});
  std::vector<resume_state::cursor> rooms(3);
  rooms[0].room = "lobby";
  rooms[0].through = 5;
  rooms[1].room = "dev";
  rooms[1].through = 9;
  rooms[2].room = "ops";
  rooms[2].through = 1;
  CHECK(parsed(encode_login_hello({"alice", "secret123", false, &rooms, 2})) ==
        json{{"type", "hello"},
             {"user", "alice"},
             {"password", "secret123"},
             {"resume", {{"lobby", 5}, {"dev", 9}}}});
  CHECK(encode_login_hello({"alice", {}, false, &rooms, 64}) ==
        encode_resume_hello("alice", rooms, 64));
}

TEST_CASE("login refusals: a reconnect retries only what may pass by itself", "[login_policy]") {
  const login_context reconnect{true, true, true};
  for (const char* code : {"name-taken", "rate-limited", "server-full", "too-many-connections",
                           "timeout", "something-new"}) {
    INFO(code);
    CHECK(on_login_error(code, reconnect) == refusal_action::retry_later);
  }
  for (const char* code :
       {"auth-failed", "password-required", "bad-password", "account-required",
        "accounts-unavailable", "insecure-transport", "session-replaced", "bad-name"}) {
    INFO(code);
    CHECK(on_login_error(code, reconnect) == refusal_action::give_up);
  }
}

TEST_CASE("login refusals: the first login asks a person again, a script only for a password",
          "[login_policy]") {
  const login_context person{false, true, false};
  const login_context person_with_password{false, true, true};
  const login_context script{false, false, false};
  const login_context script_with_password{false, false, true};
  CHECK(on_login_error("password-required", person) == refusal_action::ask_password);
  CHECK(on_login_error("password-required", script) == refusal_action::ask_password);
  CHECK(on_login_error("password-required", script_with_password) == refusal_action::give_up);
  CHECK(on_login_error("auth-failed", person_with_password) == refusal_action::ask_password);
  CHECK(on_login_error("bad-password", person_with_password) == refusal_action::ask_password);
  CHECK(on_login_error("auth-failed", script_with_password) == refusal_action::give_up);
  CHECK(on_login_error("name-taken", person) == refusal_action::ask_name);
  CHECK(on_login_error("bad-name", person) == refusal_action::ask_name);
  CHECK(on_login_error("name-taken", script) == refusal_action::give_up);
  CHECK(on_login_error("rate-limited", person_with_password) == refusal_action::give_up);
  CHECK(on_login_error("accounts-unavailable", person_with_password) == refusal_action::give_up);
}
