#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/json_text.hpp"
#include "protocol/request.hpp"
#include "protocol/utf8.hpp"

namespace {

using nlohmann::json;
using namespace std::string_literals;
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

TEST_CASE("decode_json_request: a ref given twice, once with an escaped key, echoes the one kept",
          "[request][json][fuzz]") {
  // Found by fuzz/json_request_fuzz.cpp: "r\u0065f" is "ref" again, and the parse keeps
  // the last value (2), but the ack echoed the text of the first (1).
  const std::string frame = R"({"type":"msg","text":"hi","ref":1,"r\u0065f":2})";
  CHECK(json::parse(expect_json_request<request::message>(frame).ref_json) == 2);
  const auto with_dom = protocol::decode_json_request_with_dom(frame);
  REQUIRE(std::holds_alternative<protocol::any_request>(with_dom));
  const auto& message = std::get<request::message>(std::get<protocol::any_request>(with_dom));
  CHECK(json::parse(message.ref_json) == 2);
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

TEST_CASE("a control character is found anywhere in long message text", "[request]") {
  // Tabs, and UTF-8 bytes that differ from a control character or DEL only
  // in their high bit (0x80, 0x89, 0x9B, 0x9F, 0xBF), are all allowed.
  const std::string allowed = "\t\xC2\x80\xC2\x89\xC3\x9B\xC2\x9F\xC3\xBF~ ";
  const std::string controls[] = {
      std::string("\0", 1), "\x01", "\x08", "\x0a", "\x1b", "\x1f", "\r", "\x7f"};
  for (std::size_t length = 0; length <= 40; ++length) {
    std::string base;
    while (base.size() < length) base += allowed;
    base.resize(length);
    // Cut at a character boundary: drop a lead byte left without its follower.
    if (!base.empty() && (static_cast<unsigned char>(base.back()) & 0xC0) == 0xC0) base.pop_back();
    if (!base.empty()) {
      INFO("text of " << base.size() << " bytes without controls");
      CHECK(expect_plain_request<request::message>(base).text == base);
      CHECK(expect_json_request<request::message>(json{{"type", "msg"}, {"text", base}}.dump())
                .text == base);
    }
    for (std::size_t at = 0; at <= base.size(); ++at) {
      if (at < base.size() && (static_cast<unsigned char>(base[at]) & 0xC0) == 0x80) continue;
      for (const std::string& control : controls) {
        std::string text = base;
        text.insert(at, control);
        INFO("control " << static_cast<int>(control[0]) << " at " << at << " of " << text.size());
        expect_error(protocol::decode_plain_request(text), error_code::bad_request);
        expect_json_error(json{{"type", "msg"}, {"text", text}}.dump(), error_code::bad_request);
      }
    }
  }
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

namespace {

// Everything a decoded JSON request says, as text, so two decodings can be
// compared (and shown when they differ).
std::string canonical(const protocol::decoded<protocol::any_request>& result) {
  if (const auto* error = std::get_if<protocol::decode_error>(&result)) {
    return "error " + std::string(protocol::to_string(error->code)) + ": " + error->message;
  }
  struct describe_request {
    std::string operator()(const request::message& r) const {
      return "msg text=[" + r.text + "] ref=[" + r.ref_json + "] room=[" + r.room + "]";
    }
    std::string operator()(const request::direct& r) const {
      return "dm to=[" + r.to + "] text=[" + r.text + "] ref=[" + r.ref_json + "]";
    }
    std::string operator()(const request::join& r) const { return "join room=[" + r.room + "]"; }
    std::string operator()(const request::leave& r) const { return "leave room=[" + r.room + "]"; }
    std::string operator()(const request::who& r) const { return "who room=[" + r.room + "]"; }
    std::string operator()(const request::topic& r) const {
      return "topic room=[" + r.room + "] text=" + (r.text ? "[" + *r.text + "]" : "absent");
    }
    std::string operator()(const request::nick& r) const { return "nick user=[" + r.user + "]"; }
    std::string operator()(const request::history& r) const {
      return "history room=[" + r.room + "] before=" + std::to_string(r.before) +
             " limit=" + std::to_string(r.limit);
    }
    std::string operator()(const request::resume& r) const {
      return "resume room=[" + r.room + "] after=" + std::to_string(r.after);
    }
    std::string operator()(const request::register_account& r) const {
      return "register password=[" + r.password + "]";
    }
    std::string operator()(const request::change_password& r) const {
      return "password old=[" + r.old_password + "] new=[" + r.new_password + "]";
    }
    std::string operator()(const request::unregister_account& r) const {
      return "unregister password=[" + r.password + "]";
    }
    std::string operator()(const request::kick& r) const {
      return "kick room=[" + r.room + "] user=[" + r.user + "] reason=[" + r.reason + "]";
    }
    std::string operator()(const request::ban& r) const {
      return std::string(r.global ? "gban" : "ban") + " room=[" + r.room + "] target=[" + r.target +
             "] duration=" + (r.duration_s ? std::to_string(*r.duration_s) : "none") + " reason=[" +
             r.reason + "]";
    }
    std::string operator()(const request::unban& r) const {
      return std::string(r.global ? "gunban" : "unban") + " room=[" + r.room + "] target=[" +
             r.target + "]";
    }
    std::string operator()(const request::mute& r) const {
      return "mute room=[" + r.room + "] user=[" + r.user +
             "] duration=" + (r.duration_s ? std::to_string(*r.duration_s) : "none") + " reason=[" +
             r.reason + "]";
    }
    std::string operator()(const request::unmute& r) const {
      return "unmute room=[" + r.room + "] user=[" + r.user + "]";
    }
    std::string operator()(const request::bans& r) const { return "bans room=[" + r.room + "]"; }
    std::string operator()(const request::op& r) const {
      return std::string(r.grant ? "op" : "deop") + " room=[" + r.room + "] user=[" + r.user + "]";
    }
    std::string operator()(const request::invite& r) const {
      return "invite room=[" + r.room + "] user=[" + r.user + "]";
    }
    std::string operator()(const request::mode& r) const {
      return "mode room=[" + r.room + "] private=" + (r.private_room ? "yes" : "no");
    }
    std::string operator()(const request::kill& r) const {
      return "kill user=[" + r.user + "] reason=[" + r.reason + "]";
    }
    std::string operator()(const request::rooms&) const { return "rooms"; }
    std::string operator()(const request::ping&) const { return "ping"; }
    std::string operator()(const request::pong&) const { return "pong"; }
    std::string operator()(const request::quit&) const { return "quit"; }
    std::string operator()(const request::help&) const { return "help"; }
  };
  return std::visit(describe_request{}, std::get<protocol::any_request>(result));
}

// Decodes `frame` both ways; true when the shortcut took it.
bool check_both_decodings_agree(const std::string& frame) {
  INFO("frame: " << frame);
  const std::string with_dom = canonical(protocol::decode_json_request_with_dom(frame));
  const std::string either = canonical(protocol::decode_json_request(frame));
  CHECK(either == with_dom);
  protocol::flat_json_object flat;
  return flat.read(frame);
}

// JSON values of every kind, well and ill formed, each as written.
const std::vector<std::string> sample_values = {
    // strings: plain, escaped, unicode escapes, raw UTF-8, and broken ones
    R"("")",
    R"("hi")",
    R"("lobby")",
    R"("#lobby")",
    R"("#")",
    R"("bob")",
    R"("a b")",
    R"("dev.team-1_x")",
    R"("ping")",
    "\"caf\xC3\xA9 \xF0\x9F\x99\x82\"",
    R"("\"q\" \\ \/ \b \f \n \r \t")",
    R"("tab\there")",
    R"("\u0000")",
    R"("\u001b[31m")",
    R"("\u007f")",
    R"("\u00e9\u00E9")",
    R"("\u20ac")",
    R"("\ud83d\ude42")",
    R"("\uD83D\uDE42")",
    R"("\ud83d")",
    R"("\ude42")",
    R"("\ud83d\u0041")",
    R"("\ud83dx")",
    R"("\ud83d\ud83d")",
    R"("\u12")",
    R"("\u12g4")",
    R"("\x41")",
    R"("\a")",
    R"("\")",
    R"("\u006d\u0073\u0067")",
    R"("m\u0073g")",
    "\"raw\ttab\"",
    "\"raw\x01\"",
    "\"raw\x7f\"",
    R"("unterminated)",
    R"("x)" + std::string(40, 'y') + R"(\"z")",
    "\"" + std::string(70, 'a') + "\"",
    // numbers
    "0",
    "-0",
    "1",
    "7",
    "50",
    "200",
    "201",
    "-1",
    "007",
    "01",
    "1.5",
    "-0.0",
    "3.25",
    "1.",
    ".5",
    "-",
    "+1",
    "1e3",
    "1E3",
    "1e-3",
    "-1e-3",
    "1e400",
    "18446744073709551615",
    "18446744073709551616",
    "12345678901234567890123",
    "-9223372036854775808",
    "-9223372036854775809",
    std::string(70, '9'),
    std::string(400, '9'),
    "1.0" + std::string(80, '0'),
    "0x10",
    "NaN",
    "Infinity",
    "-Infinity",
    // literals
    "true",
    "false",
    "null",
    "tru",
    "nul",
    "True",
    "NULL",
    "nulll",
    // nested values
    "[]",
    "{}",
    "[1]",
    R"(["hi"])",
    R"({"a":1})",
    R"([1,"two",null,[3]])",
    R"({"b":1,"a":{"c":[true]}})",
    "[",
    "{",
};

const std::vector<std::string> sample_types = {
    R"("msg")",      R"("dm")",       R"("join")",       R"("leave")", R"("who")",
    R"("topic")",    R"("nick")",     R"("history")",    R"("rooms")", R"("ping")",
    R"("pong")",     R"("quit")",     R"("help")",       R"("hello")", R"("dance")",
    R"("")",         R"("MSG")",      R"("m\u0073g")",   "1",          "null",
    R"("register")", R"("password")", R"("unregister")",
};

const std::vector<std::string> sample_keys = {"text", "to",  "room",   "user",  "ref",   "password",
                                              "old",  "new", "before", "limit", "extra", "type"};

std::string object_of(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ',';
    out += '"' + key + "\":" + value;
  }
  return out + "}";
}

}  // namespace

TEST_CASE("decode_json_request: of several faults, the first checked is the one reported",
          "[request][json]") {
  // Both readings share one decoder, so only a fixed expectation pins the order.
  const std::pair<std::string, std::string> cases[] = {
      {R"({"type":"msg","room":5})", R"(msg needs a string field "text")"},
      {R"({"type":"msg","text":"","room":5})", R"(msg: "room" must be a string)"},
      {R"({"type":"msg","text":"","room":"no good"})",
       "room names are 1 to 64 of A-Z a-z 0-9 _ . -, with an optional leading # "
       R"((got "no good"))"},
      {R"({"type":"msg","text":"","room":"dev"})", "message text must not be empty"},
      {R"({"type":"dm","text":5})", R"(dm needs a string field "to")"},
      {R"({"type":"dm","to":"bob","text":""})", "message text must not be empty"},
      {R"({"type":"history","room":5,"before":-1})", R"(history: "room" must be a string)"},
      {R"({"type":"history","before":-1,"limit":0})",
       R"("before" must be an integer in 0..18446744073709551615)"},
      {R"({"type":"history","limit":0})", R"("limit" must be an integer in 1..200)"},
      {R"({"type":"topic","room":5,"text":5})", R"(topic: "room" must be a string)"},
      {R"({"type":"topic","text":5})", R"(topic: "text" must be a string)"},
      {R"({"type":"topic","text":"a\u0007"})", "a topic must not contain control characters"},
  };
  for (const auto& [frame, message] : cases) {
    INFO("frame: " << frame);
    for (const auto& result :
         {protocol::decode_json_request(frame), protocol::decode_json_request_with_dom(frame)}) {
      CHECK(expect_error(result, error_code::bad_request).message == message);
    }
  }
  const std::string bad_name_and_text = R"({"type":"dm","to":"no good","text":""})";
  for (const auto& result : {protocol::decode_json_request(bad_name_and_text),
                             protocol::decode_json_request_with_dom(bad_name_and_text)}) {
    CHECK(expect_error(result, error_code::bad_name).message ==
          R"(names are 1 to 32 of A-Z a-z 0-9 _ . - (got "no good"))");
  }
}

TEST_CASE("decode_json_request: the shortcut takes the common requests", "[request][json]") {
  const std::string taken[] = {
      R"({"type":"msg","text":"hi"})",
      R"({"type":"msg","text":"hi","ref":1})",
      R"({"type":"msg","text":"hi","ref":"r-1"})",
      R"({"type":"msg","text":"hi","ref":18446744073709551616})",
      R"({"type":"msg","text":"hi","ref":-2.5,"room":"dev"})",
      R"({"ref":null,"text":"caf\u00e9 \ud83d\ude42 \"q\"","type":"msg"})",
      " { \"type\" : \"msg\" ,\t\"text\" : \"spaced\" } ",
      R"({"type":"dm","to":"bob","text":"psst","ref":7})",
      R"({"type":"join","room":"#dev"})",
      R"({"type":"history","limit":10,"before":99})",
      R"({"type":"ping"})",
      R"({})",
  };
  for (const std::string& frame : taken) {
    INFO("frame: " << frame);
    CHECK(check_both_decodings_agree(frame));
  }
  // These it leaves to the full parser, which must still decode them.
  const std::string left[] = {
      R"({"type":"msg","text":"hi","ref":[1]})",
      R"({"type":"msg","text":"hi","ref":{"a":1}})",
      R"({"type":"msg","text":"hi","ref":1e3})",
      R"({"type":"msg","text":"a","text":"b"})",
      R"({"t\u0079pe":"msg","text":"hi"})",
      "\xEF\xBB\xBF{\"type\":\"ping\"}",
      R"({"type":"msg","text":"hi",})",
      R"({"type":"msg","text":"\ud83d"})",
      R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"type":"ping"})",
  };
  for (const std::string& frame : left) {
    INFO("frame: " << frame);
    CHECK_FALSE(check_both_decodings_agree(frame));
  }
  CHECK(expect_json_request<request::message>(R"({"type":"msg","text":"a","text":"b"})").text ==
        "b");
  CHECK(expect_json_request<request::message>(R"({"type":"msg","text":"hi","ref":1e3})").ref_json ==
        "1e3");
}

TEST_CASE("decode_json_request: the shortcut decodes exactly as the full parser",
          "[request][json]") {
  std::size_t frames = 0;
  std::size_t taken = 0;
  const auto check = [&](const std::string& frame) {
    ++frames;
    if (check_both_decodings_agree(frame)) ++taken;
  };

  // Every type with every sample value in every field.
  for (const std::string& type : sample_types) {
    check(object_of({{"type", type}}));
    for (const std::string& key : sample_keys) {
      for (const std::string& value : sample_values) {
        check(object_of({{"type", type}, {key, value}}));
      }
    }
  }
  // The fields each request reads, two at a time, in both orders.
  const std::pair<std::string, std::vector<std::string>> requests[] = {
      {R"("msg")", {"text", "ref", "room"}},  {R"("dm")", {"to", "text", "ref"}},
      {R"("topic")", {"room", "text"}},       {R"("history")", {"room", "before", "limit"}},
      {R"("nick")", {"user", "ref"}},         {R"("join")", {"room", "text"}},
      {R"("register")", {"password", "ref"}}, {R"("password")", {"old", "new"}},
  };
  const std::vector<std::string> good_values = {R"("hi")",
                                                R"("bob")",
                                                R"("#dev")",
                                                R"("\u00e9")",
                                                "0",
                                                "5",
                                                "201",
                                                "-1",
                                                "null",
                                                "1.5",
                                                R"("a\nb")",
                                                R"("")",
                                                "18446744073709551615",
                                                "[]",
                                                "\"" + std::string(70, 'r') + "\"",
                                                "-1234567890123456789012345678901234567890.5"};
  for (const auto& [type, keys] : requests) {
    for (const std::string& first_key : keys) {
      for (const std::string& second_key : keys) {
        for (const std::string& first : good_values) {
          for (const std::string& second : good_values) {
            check(object_of({{"type", type}, {first_key, first}, {second_key, second}}));
            check(object_of({{first_key, first}, {second_key, second}, {"type", type}}));
          }
        }
      }
    }
  }
  // The frames themselves, well and ill formed.
  const std::vector<std::string> frames_as_written = {
      "",
      " ",
      "{",
      "}",
      "{}",
      " {} ",
      "{ }",
      "{}x",
      "{},",
      "[]",
      "null",
      "\"msg\"",
      "42",
      R"({"type":"msg","text":"hi"})",
      R"({"type":"msg","text":"hi"} )",
      "\r{\"type\":\"msg\",\"text\":\"hi\"}\r",
      "\t{\n\"type\"\r:\t\"msg\" , \"text\":\"hi\"}",
      R"({"type":"msg","text":"hi"}})",
      R"({"type":"msg","text":"hi"})" + std::string(" x"),
      R"({"type":"msg" "text":"hi"})",
      R"({"type":"msg",,"text":"hi"})",
      R"({"type":"msg","text":"hi",})",
      R"({,"type":"msg"})",
      R"({"type" "msg"})",
      R"({"type"::"msg"})",
      R"({type:"msg"})",
      R"({'type':'msg'})",
      R"({"type":"msg"]})",
      R"({"type":"msg","text":"hi"}{"type":"ping"})",
      R"({"type":"msg","text":"hi")",
      R"({"type":"msg","text":"hi)",
      R"({"type":"msg","text":)",
      R"({"type":"msg","text")",
      R"({"type":"msg","te)",
      R"({"type":"msg","text":"hi","type":"ping"})",
      R"({"type":"ping","type":"msg","text":"hi"})",
      R"({"type":"msg","text":"a","text":5})",
      R"({"type":"msg","":"empty key","text":"hi"})",
      R"({"type":"msg","text":"hi","":1,"":2})",
      R"({"type":"msg","te\u0078t":"hi"})",
      R"({"type":"msg","text":"hi","r\u0065f":1})",
      R"({"type":"msg","text":"hi","ref":1,"r\u0065f":2})",
      "{\"type\":\"msg\",\"text\":\"hi\",\"ref\":[1,\r2]}",
      "{\"type\":\"msg\",\"text\":\"hi\",\"ref\":{\"a\":\n1}}",
      "{\"type\":\"msg\",\"text\":\"caf\xC3\xA9\",\"ro\xC3\xB6m\":\"x\"}",
      "{\"type\":\"msg\",\"text\":\"hi\"}\xC3\xA9",
      "\xC3\xA9{\"type\":\"ping\"}",
      "\xEF\xBB\xBF{\"type\":\"ping\"}",
      "{\"type\":\"ping\"}\0"s,
      "{\"type\":\"ping\"\0}"s,
      "{\"type\":\"p\0ing\"}"s,
      R"({"type":"msg","text":"hi","a":1,"b":2,"c":3,"d":4,"e":5})",
      R"({"type":"msg","text":"hi","a":1,"b":2,"c":3,"d":4,"e":5,"f":6})",
      R"({"type":"msg","text":"hi","a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7})",
      R"({"type":"msg","text":"hi","a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8})",
  };
  for (const std::string& frame : frames_as_written) check(frame);

  // And mutations of well-formed requests: bytes dropped, doubled or replaced
  // with the ones that matter to JSON, at random but always the same.
  const std::vector<std::string> seeds = {
      R"({"type":"msg","text":"hello \"you\" \u00e9\ud83d\ude42","ref":-12.5,"room":"#dev"})",
      R"({"type":"dm","to":"bob","text":"psst\t!","ref":"r\n1"})",
      R"({"type":"history","room":"dev","before":123,"limit":50})",
      R"({"type":"topic","room":"dev","text":"the \\ topic"})",
      R"({ "type" : "nick" , "user" : "al" , "ref" : true })",
  };
  const std::string alphabet =
      "{}[]:,\"\\/ \t\r\nu0123456789abcdefABCDEF.-+eE\x7f\x01tnrl"
      "\xC3\xA9";
  std::mt19937 random(20240607);
  for (int i = 0; i < 20000; ++i) {
    std::string frame = seeds[random() % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int edit = 0; edit < edits && !frame.empty(); ++edit) {
      const std::size_t at = random() % frame.size();
      const char byte = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0: frame.erase(at, 1); break;
        case 1: frame.insert(at, 1, byte); break;
        default: frame[at] = byte;
      }
    }
    // The decoders are only ever given valid UTF-8.
    if (chat::protocol::is_valid_utf8(frame)) check(frame);
  }

  INFO(taken << " of " << frames << " frames took the shortcut");
  // The comparison means something only if the shortcut took many of them.
  CHECK(taken > frames / 4);
  CHECK(taken < frames);
}

TEST_CASE("decode_hello: a JSON hello may carry a password, and register with it",
          "[request][hello][accounts]") {
  const auto plain = expect_hello("alice");
  CHECK_FALSE(plain.password);
  const auto login = expect_hello(R"({"type":"hello","user":"alice","password":"p w"})");
  REQUIRE(login.password);
  CHECK(*login.password == "p w");
  CHECK_FALSE(login.create_account);
  const auto create =
      expect_hello(R"({"type":"hello","user":"alice","password":"pw","register":true})");
  CHECK(create.create_account);
  expect_hello_error(R"({"type":"hello","user":"alice","password":7})", error_code::bad_request);
  expect_hello_error(R"({"type":"hello","user":"alice","register":true})", error_code::bad_request);
  expect_hello_error(R"({"type":"hello","user":"alice","password":"pw","register":"yes"})",
                     error_code::bad_request);
}

TEST_CASE("account requests in both forms", "[request][accounts]") {
  CHECK(expect_json_request<request::register_account>(R"({"type":"register","password":"a b"})")
            .password == "a b");
  const auto change =
      expect_json_request<request::change_password>(R"({"type":"password","old":"o","new":"n"})");
  CHECK(change.old_password == "o");
  CHECK(change.new_password == "n");
  CHECK(expect_json_request<request::unregister_account>(R"({"type":"unregister","password":"x"})")
            .password == "x");
  expect_json_error(R"({"type":"register"})", error_code::bad_request);
  expect_json_error(R"({"type":"password","old":"o"})", error_code::bad_request);
  expect_json_error(R"({"type":"unregister","password":1})", error_code::bad_request);

  // Plain: the password is the rest of the line; the old one of /password a word.
  CHECK(expect_plain_request<request::register_account>("/register two words").password ==
        "two words");
  const auto plain_change = expect_plain_request<request::change_password>("/password old new one");
  CHECK(plain_change.old_password == "old");
  CHECK(plain_change.new_password == "new one");
  CHECK(expect_plain_request<request::unregister_account>("/unregister x").password == "x");
  for (const char* bad : {"/register", "/password old", "/unregister"}) {
    INFO(bad);
    expect_error(protocol::decode_plain_request(bad), error_code::bad_request);
  }
}
