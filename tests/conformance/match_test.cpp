#include "conformance/match.hpp"

#include <catch2/catch.hpp>

namespace conf = chat::conformance;
using conf::frame_expectation;
using kind = frame_expectation::kind;
using nlohmann::json;

namespace {

// Matches one frame against a JSON pattern written as text.
std::optional<std::string> match(std::string_view pattern, std::string_view frame,
                                 conf::capture_table& captures) {
  return conf::match_frame({kind::json, json::parse(pattern).dump()}, frame, captures);
}

std::optional<std::string> match(std::string_view pattern, std::string_view frame) {
  conf::capture_table captures;
  return match(pattern, frame, captures);
}

std::optional<std::string> check(const conf::capture_table& captures,
                                 std::vector<conf::operand> operands,
                                 std::vector<conf::relation> relations) {
  return conf::evaluate_check({std::move(operands), std::move(relations)}, captures);
}

}  // namespace

TEST_CASE("plain expectations: exact, prefix and substring", "[match]") {
  conf::capture_table none;
  CHECK_FALSE(conf::match_frame({kind::exact, "USER"}, "USER", none));
  CHECK(conf::match_frame({kind::exact, "USER"}, "USER ", none));
  CHECK(conf::match_frame({kind::exact, "USER"}, "user", none));
  CHECK_FALSE(conf::match_frame({kind::starts_with, "! error "}, "! error bad-name: x", none));
  CHECK(conf::match_frame({kind::starts_with, "! error "}, " ! error bad-name", none));
  CHECK_FALSE(conf::match_frame({kind::contains, "bob: hi"}, "[12:00] bob: hi!", none));
  CHECK(*conf::match_frame({kind::contains, "bob: hi"}, "bob: ho", none) ==
        R"(expected a line containing "bob: hi")");
}

TEST_CASE("JSON expectations ignore member order and spacing", "[match]") {
  CHECK_FALSE(match(R"({"type":"join","room":"lobby","user":"a"})",
                    R"({ "user": "a", "type": "join", "room": "lobby" })"));
  CHECK_FALSE(match(R"({"ref":{"b":[1,{"c":null}],"a":true}})",
                    R"({"ref":{"a":true,"b":[1,{"c":null}]}})"));
}

TEST_CASE("JSON expectations say where the frame differs", "[match]") {
  CHECK(*match(R"({"type":"pong"})", "pong") ==
        "expected a JSON value, got a line that does not parse");
  CHECK(*match(R"({"type":"pong"})", R"({"type":"ping"})") ==
        R"(at /type: expected "pong", got "ping")");
  CHECK(*match(R"({"type":"pong","id":1})", R"({"type":"pong"})") == R"(missing member "id")");
  CHECK(*match(R"({"type":"pong"})", R"({"type":"pong","id":1})") == R"(unexpected member "id")");
  CHECK(*match(R"({"users":["a","b"]})", R"({"users":["a"]})") ==
        R"(at /users: expected 2 elements, got 1: ["a"])");
  CHECK(*match(R"({"users":["a","b"]})", R"({"users":["a","c"]})") ==
        R"(at /users/1: expected "b", got "c")");
  CHECK(*match(R"({"ref":{"n":1}})", R"({"ref":[1]})") ==
        R"(at /ref: expected an object, got [1])");
  CHECK(*match(R"({"ref":null})", R"({"ref":false})") == R"(at /ref: expected null, got false)");
  CHECK(*match(R"({"id":"1"})", R"({"id":1})") == R"(at /id: expected "1", got 1)");
}

TEST_CASE("numbers compare by value", "[match]") {
  CHECK_FALSE(match(R"({"ref":1})", R"({"ref":1.0})"));
  CHECK_FALSE(match(R"({"ref":18446744073709551615})", R"({"ref":18446744073709551615})"));
  CHECK(match(R"({"ref":1})", R"({"ref":2})"));
  CHECK(match(R"({"ref":1})", R"({"ref":true})"));
  // Not equal however the JSON library stores them.
  CHECK(match(R"({"ref":-1})", R"({"ref":18446744073709551615})"));
}

TEST_CASE("a * matches any value but not a missing member", "[match]") {
  for (const char* value : {"1", "\"x\"", "null", "[]", "{\"a\":1}", "false"}) {
    CHECK_FALSE(match(R"({"id":"*"})", std::string(R"({"id":)") + value + "}"));
  }
  CHECK(match(R"({"id":"*"})", "{}"));
  CHECK_FALSE(match(R"(["*","*"])", R"([1,"two"])"));
}

TEST_CASE("a capture binds on first sight and must be equal afterwards", "[match]") {
  conf::capture_table captures;
  REQUIRE_FALSE(match(R"({"type":"ack","id":"$id"})", R"({"type":"ack","id":7})", captures));
  CHECK(captures.at("id") == 7);
  CHECK_FALSE(match(R"({"type":"msg","id":"$id"})", R"({"type":"msg","id":7})", captures));
  CHECK(*match(R"({"type":"msg","id":"$id"})", R"({"type":"msg","id":8})", captures) ==
        "at /id: expected $id = 7, got 8");
  // Twice in one pattern: the two values must agree.
  CHECK(match(R"(["$x","$x"])", "[1,2]", captures));
  CHECK_FALSE(match(R"(["$x","$x"])", "[3,3]", captures));
}

TEST_CASE("a frame that fails to match binds nothing", "[match]") {
  conf::capture_table captures;
  CHECK(match(R"({"id":"$id","type":"msg"})", R"({"id":5,"type":"ack"})", captures));
  CHECK(captures.empty());
}

TEST_CASE("$$ and $* match the literal strings", "[match]") {
  CHECK_FALSE(match(R"({"text":"$$5"})", R"({"text":"$5"})"));
  CHECK(match(R"({"text":"$$5"})", R"({"text":"5"})"));
  CHECK_FALSE(match(R"({"text":"$*"})", R"({"text":"*"})"));
  CHECK(match(R"({"text":"$*"})", R"({"text":"**"})"));
}

TEST_CASE("malformed patterns are caught before they run", "[match]") {
  std::vector<std::string> names;
  CHECK_FALSE(
      conf::validate_pattern(json::parse(R"({"a":"$x","b":["$y_2",{"c":"$$z"}],"d":"*"})"), names));
  CHECK(names == std::vector<std::string>{"x", "y_2"});
  for (const char* bad : {R"("$")", R"("$1")", R"("$a b")", R"({"a":["$-"]})"}) {
    INFO(bad);
    CHECK(conf::validate_pattern(json::parse(bad), names));
  }
}

TEST_CASE("check evaluates a chain of relations", "[match]") {
  using conf::relation;
  const conf::capture_table captures{
      {"a", 1}, {"b", 2}, {"big", 18446744073709551615ULL}, {"minus", -1}, {"s", "text"}};
  const conf::operand a{true, "a"}, b{true, "b"}, big{true, "big"}, minus{true, "minus"},
      s{true, "s"};
  CHECK_FALSE(
      check(captures, {minus, a, b, big}, {relation::less, relation::less, relation::less}));
  CHECK_FALSE(check(captures, {big, minus}, {relation::not_equal}));
  CHECK_FALSE(check(captures, {a, {false, "1.5"}, b}, {relation::less, relation::less}));
  CHECK_FALSE(check(captures, {a, {false, "1.0"}}, {relation::equal}));
  CHECK_FALSE(check(captures, {b, a}, {relation::greater_equal}));
  CHECK_FALSE(check(captures, {a, b}, {relation::not_equal}));
  CHECK(*check(captures, {a, b, a}, {relation::less, relation::less}) == "2 < 1 does not hold");
  CHECK(*check(captures, {a, s}, {relation::less}) == R"($s is "text", not a number)");
  CHECK(*check(captures, {a, {true, "nope"}}, {relation::less}) == "$nope was never captured");
}
