#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/request.hpp"

namespace {

using nlohmann::json;
namespace protocol = chat::protocol;
namespace request = protocol::request;
using protocol::error_code;

template <class T>
std::string describe(const protocol::decoded<T>& result) {
  if (const auto* error = std::get_if<protocol::decode_error>(&result)) {
    return "error " + std::string(protocol::to_string(error->code)) + ": " + error->message;
  }
  return "a request";
}

protocol::hello expect_hello(std::string_view frame) {
  const auto result = protocol::decode_hello(frame);
  INFO("decode_hello(" << frame << ") gave " << describe(result));
  REQUIRE(std::holds_alternative<protocol::hello>(result));
  return std::get<protocol::hello>(result);
}

template <class Request>
Request expect_request(const protocol::decoded<protocol::any_request>& result) {
  INFO("decoded to " << describe(result));
  REQUIRE(std::holds_alternative<protocol::any_request>(result));
  const auto& any = std::get<protocol::any_request>(result);
  REQUIRE(std::holds_alternative<Request>(any));
  return std::get<Request>(any);
}

template <class Request>
Request expect_json_request(std::string_view frame) {
  INFO("decode_json_request(" << frame << ")");
  return expect_request<Request>(protocol::decode_json_request(frame));
}

template <class Request>
Request expect_plain_request(std::string_view frame) {
  INFO("decode_plain_request(" << frame << ")");
  return expect_request<Request>(protocol::decode_plain_request(frame));
}

template <class T>
protocol::decode_error expect_error(const protocol::decoded<T>& result, error_code code) {
  REQUIRE(std::holds_alternative<protocol::decode_error>(result));
  const auto& error = std::get<protocol::decode_error>(result);
  CHECK(protocol::to_string(error.code) == protocol::to_string(code));
  // The message is for people; it must say something.
  CHECK_FALSE(error.message.empty());
  return error;
}

void expect_hello_error(std::string_view frame, error_code code) {
  INFO("decode_hello(" << frame << ")");
  expect_error(protocol::decode_hello(frame), code);
}

void expect_json_error(std::string_view frame, error_code code) {
  INFO("decode_json_request(" << frame << ")");
  expect_error(protocol::decode_json_request(frame), code);
}

}  // namespace

TEST_CASE("decode_hello: a plain name starts a plain session", "[request][hello]") {
  const auto hello = expect_hello("Alice_1.-");
  CHECK(hello.user == "Alice_1.-");
  CHECK_FALSE(hello.json);
}

TEST_CASE("decode_hello: a JSON hello starts a JSON session", "[request][hello]") {
  const auto hello = expect_hello(R"({"type":"hello","user":"alice"})");
  CHECK(hello.user == "alice");
  CHECK(hello.json);

  // Field order and whitespace inside the object are JSON's business, not ours.
  CHECK(expect_hello(R"({ "user" : "bob", "type" : "hello" })").user == "bob");
  CHECK(expect_hello(R"({"user":"bob","type":"hello","extra":1})").user == "bob");
}

TEST_CASE("decode_hello: only a frame starting with { is JSON", "[request][hello]") {
  // Anything else is taken for a name, and this one is not a valid name.
  expect_hello_error(R"( {"type":"hello","user":"bob"})", error_code::bad_name);
}

TEST_CASE("decode_hello: a bad name is bad-name in either form", "[request][hello]") {
  expect_hello_error("", error_code::bad_name);
  expect_hello_error("has space", error_code::bad_name);
  expect_hello_error(std::string(33, 'a'), error_code::bad_name);
  expect_hello_error("caf\xC3\xA9", error_code::bad_name);
  expect_hello_error(R"({"type":"hello","user":""})", error_code::bad_name);
  expect_hello_error(R"({"type":"hello","user":"a b"})", error_code::bad_name);
  expect_hello_error(R"({"type":"hello","user":")" + std::string(33, 'a') + R"("})",
                     error_code::bad_name);
}

TEST_CASE("decode_hello: a frame starting with { that is not JSON is bad-json",
          "[request][hello]") {
  expect_hello_error("{", error_code::bad_json);
  expect_hello_error(R"({"type":"hello","user":"alice")", error_code::bad_json);
  expect_hello_error(R"({"type":"hello","user":"alice"} trailing)", error_code::bad_json);
  expect_hello_error("{type:hello}", error_code::bad_json);
}

TEST_CASE("decode_hello: JSON that is not a proper hello is bad-request", "[request][hello]") {
  expect_hello_error(R"({})", error_code::bad_request);
  expect_hello_error(R"({"type":"msg","text":"hi"})", error_code::bad_request);
  expect_hello_error(R"({"type":"hello"})", error_code::bad_request);
  expect_hello_error(R"({"type":"hello","user":7})", error_code::bad_request);
  expect_hello_error(R"({"type":"hello","user":null})", error_code::bad_request);
  expect_hello_error(R"({"type":"hello","user":["alice"]})", error_code::bad_request);
  expect_hello_error(R"({"type":1,"user":"alice"})", error_code::bad_request);
  expect_hello_error(R"({"type":"HELLO","user":"alice"})", error_code::bad_request);
}

TEST_CASE("decode_json_request: msg", "[request][json]") {
  SECTION("without ref") {
    const auto message = expect_json_request<request::message>(R"({"type":"msg","text":"hi"})");
    CHECK(message.text == "hi");
    CHECK(message.ref_json.empty());
  }
  SECTION("text is unescaped, non-ASCII kept") {
    // JSON escapes, then raw UTF-8.
    const std::string frame =
        std::string(R"({"type":"msg","text":"\"q\" \\ \t \u00e9 caf)") + "\xC3\xA9" + R"("})";
    const auto message = expect_json_request<request::message>(frame);
    CHECK(message.text == "\"q\" \\ \t \xC3\xA9 caf\xC3\xA9");
  }
  SECTION("with a ref of each JSON type, echoed as an equal JSON value") {
    const char* refs[] = {
        "null",  "true",
        "false", "0",
        "-17",   "18446744073709551615",
        "3.25",  "-1e-3",
        R"("")", R"("abc \"q\" \u00e9")",
        "[]",    R"([1,"two",null,[3]])",
        "{}",    R"({"b":1,"a":{"c":[true]}})",
    };
    for (const char* ref : refs) {
      INFO("ref " << ref);
      const std::string frame = std::string(R"({"type":"msg","text":"hi","ref":)") + ref + "}";
      const auto message = expect_json_request<request::message>(frame);
      CHECK(message.text == "hi");
      REQUIRE_FALSE(message.ref_json.empty());
      // Compact, one line, and the same JSON value the client sent.
      CHECK(message.ref_json.find('\n') == std::string::npos);
      CHECK(json::parse(message.ref_json) == json::parse(ref));
    }
  }
  SECTION("a compact ref comes back as the very same text") {
    for (const char* ref : {"null", "7", "-17", "18446744073709551615", "3.25", R"("r-1")",
                            R"([1,"two",null])", R"({"a":{"b":[true]}})"}) {
      INFO("ref " << ref);
      const std::string frame = std::string(R"({"type":"msg","text":"hi","ref":)") + ref + "}";
      CHECK(expect_json_request<request::message>(frame).ref_json == ref);
    }
  }
  SECTION("a ref of null is a ref all the same") {
    const auto message =
        expect_json_request<request::message>(R"({"type":"msg","text":"hi","ref":null})");
    CHECK(message.ref_json == "null");
  }
}

TEST_CASE("decode_json_request: an integer ref beyond 64 bits comes back exactly",
          "[request][json]") {
  // JSON puts no bound on integers, and clients that parse them exactly (Python,
  // JavaScript BigInt) would not recognise a rounded value in their ack.
  for (const char* ref : {"12345678901234567890123", "-9223372036854775809"}) {
    INFO("ref " << ref);
    const std::string frame = std::string(R"({"type":"msg","text":"hi","ref":)") + ref + "}";
    CHECK(expect_json_request<request::message>(frame).ref_json == ref);
  }
}

TEST_CASE("decode_json_request: an ill-formed msg is bad-request", "[request][json]") {
  expect_json_error(R"({"type":"msg"})", error_code::bad_request);
  expect_json_error(R"({"type":"msg","ref":1})", error_code::bad_request);
  expect_json_error(R"({"type":"msg","text":5})", error_code::bad_request);
  expect_json_error(R"({"type":"msg","text":null})", error_code::bad_request);
  expect_json_error(R"({"type":"msg","text":["hi"]})", error_code::bad_request);
  expect_json_error(R"({"type":"msg","text":""})", error_code::bad_request);
  // One message is one line for every recipient, plain ones included.
  expect_json_error(R"({"type":"msg","text":"two\nlines"})", error_code::bad_request);
  expect_json_error(R"({"type":"msg","text":"cr\r"})", error_code::bad_request);
  expect_json_error(R"({"type":"msg","text":"nul\u0000"})", error_code::bad_request);
}

TEST_CASE("message text may not hold control characters other than tab", "[request]") {
  // Plain recipients see the text raw: a CR would let a sender overwrite the
  // line on their terminal, and ESC would drive the terminal itself.
  const std::string controls[] = {std::string("\0", 1), "\x01", "\x1b", "\r", "\x7f"};
  for (const std::string& control : controls) {
    INFO("control character " << static_cast<int>(control[0]));
    const std::string text = "a" + control + "b";
    expect_json_error(json{{"type", "msg"}, {"text", text}}.dump(), error_code::bad_request);
    INFO("decode_plain_request(" << text << ")");
    expect_error(protocol::decode_plain_request(text), error_code::bad_request);
    expect_error(protocol::decode_plain_request("//" + text), error_code::bad_request);
  }

  CHECK(expect_json_request<request::message>(R"({"type":"msg","text":"a\tb"})").text == "a\tb");
  CHECK(expect_plain_request<request::message>("a\tb").text == "a\tb");
}

TEST_CASE("decode_json_request: the bare requests", "[request][json]") {
  expect_json_request<request::ping>(R"({"type":"ping"})");
  expect_json_request<request::who>(R"({"type":"who"})");
  expect_json_request<request::quit>(R"({"type":"quit"})");
  // Unknown extra fields are ignored, so clients can add some later.
  expect_json_request<request::ping>(R"({"type":"ping","extra":[1,2]})");
}

TEST_CASE("decode_json_request: what is not a request", "[request][json]") {
  SECTION("not JSON at all is bad-json") {
    expect_json_error("hello", error_code::bad_json);
    expect_json_error(R"({"type":"ping")", error_code::bad_json);
    expect_json_error(R"({"type":"ping"}{"type":"ping"})", error_code::bad_json);
    expect_json_error("'single'", error_code::bad_json);
  }
  SECTION("JSON but not an object is bad-request") {
    for (const char* frame : {"[]", R"(["ping"])", "42", R"("ping")", "null", "true"}) {
      expect_json_error(frame, error_code::bad_request);
    }
  }
  SECTION("an object without a string type is bad-request") {
    expect_json_error(R"({})", error_code::bad_request);
    expect_json_error(R"({"text":"hi"})", error_code::bad_request);
    expect_json_error(R"({"type":null})", error_code::bad_request);
    expect_json_error(R"({"type":["ping"]})", error_code::bad_request);
  }
  SECTION("an unknown type is bad-request") {
    expect_json_error(R"({"type":"dance"})", error_code::bad_request);
    expect_json_error(R"({"type":"PING"})", error_code::bad_request);
    // A second hello after the handshake is not a request.
    expect_json_error(R"({"type":"hello","user":"alice"})", error_code::bad_request);
  }
}

TEST_CASE("decode_plain_request: lines are messages unless they start with /", "[request][plain]") {
  CHECK(expect_plain_request<request::message>("hello there").text == "hello there");
  CHECK(expect_plain_request<request::message>(" /who").text == " /who");
  CHECK(expect_plain_request<request::message>("{\"type\":\"ping\"}").text ==
        "{\"type\":\"ping\"}");
  CHECK(expect_plain_request<request::message>("hello").ref_json.empty());
}

TEST_CASE("decode_plain_request: // sends a message starting with /", "[request][plain]") {
  CHECK(expect_plain_request<request::message>("//x").text == "/x");
  CHECK(expect_plain_request<request::message>("//who").text == "/who");
  CHECK(expect_plain_request<request::message>("//").text == "/");
  CHECK(expect_plain_request<request::message>("///").text == "//");
}

TEST_CASE("decode_plain_request: commands", "[request][plain]") {
  expect_plain_request<request::who>("/who");
  expect_plain_request<request::quit>("/quit");
  expect_plain_request<request::help>("/help");
}

TEST_CASE("decode_plain_request: an unknown command is unknown-command", "[request][plain]") {
  for (const char* frame : {"/", "/dance", "/WHO", "/whom", "/ who"}) {
    INFO("decode_plain_request(" << frame << ")");
    const auto error =
        expect_error(protocol::decode_plain_request(frame), error_code::unknown_command);
    // Naming the command tells a person at a terminal what went wrong.
    const std::string_view command =
        std::string_view(frame).substr(0, std::string_view(frame).find(' '));
    CHECK(error.message.find(command) != std::string::npos);
  }
}
