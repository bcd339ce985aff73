#include <catch2/catch.hpp>

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/frame_text.hpp"
#include "bench/json_fields.hpp"
#include "protocol/event.hpp"

namespace {

using namespace chat::bench;
namespace protocol = chat::protocol;
using protocol::session_mode;

std::string without_lf(std::string frame) {
  if (!frame.empty() && frame.back() == '\n') frame.pop_back();
  return frame;
}

}  // namespace

TEST_CASE("plain frames: messages, errors and control lines", "[frame_text]") {
  const std::string message = without_lf(
      protocol::encode_message(session_mode::plain, 7, 0, "lobby", "alice", "hi: there"));
  auto seen = classify_plain_frame(message);
  CHECK(seen.kind == frame_kind::message);
  CHECK(seen.text == "hi: there");

  const std::string in_room = without_lf(protocol::encode_message(
      session_mode::plain,
      protocol::message_view{1, 0, "dev", "bob", "~text", /*plain_names_room=*/true}));
  seen = classify_plain_frame(in_room);
  CHECK(seen.kind == frame_kind::message);
  CHECK(seen.text == "~text");

  CHECK(classify_plain_frame("USER").kind == frame_kind::control);
  CHECK(classify_plain_frame(without_lf(protocol::encode_join(session_mode::plain, "lobby", "a")))
            .kind == frame_kind::control);
  CHECK(classify_plain_frame(without_lf(protocol::encode_error(
                                 session_mode::plain, protocol::error_code::bad_request, "no")))
            .kind == frame_kind::error);
  CHECK(classify_plain_frame("no colon here").kind == frame_kind::malformed);
  CHECK(classify_plain_frame(": starts with a colon").kind == frame_kind::malformed);
  CHECK(classify_plain_frame("alice:no space").kind == frame_kind::malformed);
  CHECK(classify_plain_frame("alice:").kind == frame_kind::malformed);
  CHECK(classify_plain_frame("").kind == frame_kind::malformed);
}

TEST_CASE("JSON frames: the text of msg envelopes, escapes decoded", "[frame_text]") {
  std::string scratch;
  const std::string plain_text = without_lf(
      protocol::encode_message(session_mode::json, 42, 1732560000123, "lobby", "alice", "~abc"));
  auto seen = classify_json_frame(plain_text, scratch);
  CHECK(seen.kind == frame_kind::message);
  CHECK(seen.text == "~abc");

  const std::string tricky = "say \"text\":\"x\" \\ \t and \xC3\xA9";
  const std::string escaped =
      without_lf(protocol::encode_message(session_mode::json, 1, 2, "lobby", "bob", tricky));
  seen = classify_json_frame(escaped, scratch);
  CHECK(seen.kind == frame_kind::message);
  CHECK(seen.text == tricky);

  CHECK(classify_json_frame(without_lf(protocol::encode_join(session_mode::json, "lobby", "a")),
                            scratch)
            .kind == frame_kind::control);
  CHECK(classify_json_frame(without_lf(protocol::encode_error(session_mode::json,
                                                              protocol::error_code::bad_json, "x")),
                            scratch)
            .kind == frame_kind::error);
  CHECK(classify_json_frame("not json", scratch).kind == frame_kind::malformed);
  CHECK(classify_json_frame(R"({"type":"msg"})", scratch).kind == frame_kind::malformed);
  CHECK(classify_json_frame(R"({"type":"msg","text":5})", scratch).kind == frame_kind::malformed);
  CHECK(classify_json_frame(R"({"text":"x"})", scratch).kind == frame_kind::malformed);
}

TEST_CASE("the JSON scan finds top-level fields in any order", "[json_fields]") {
  json_fields fields;
  REQUIRE(scan_json_fields(
      R"( { "ref" : {"text":"inner","a":[1,"]",{"b":"}"}]}, "text" : "outer", "n":-1.5e3,
           "ok":true, "none":null, "type":"msg" } )",
      fields));
  CHECK(fields.has_type);
  CHECK(fields.type == "msg");
  CHECK(fields.has_text);
  CHECK(fields.text == "outer");
  CHECK_FALSE(fields.text_escaped);

  // An escaped key still names the field; the last of repeated keys wins.
  REQUIRE(scan_json_fields(R"({"t\u0065xt":"a","type":"x","type":"msg"})", fields));
  CHECK(fields.text == "a");
  CHECK(fields.type == "msg");

  REQUIRE(scan_json_fields(R"({"text":"a\"b\\"})", fields));
  CHECK(fields.text_escaped);
  CHECK(fields.text == R"(a\"b\\)");

  REQUIRE(scan_json_fields("{}", fields));
  CHECK_FALSE(fields.has_type);

  for (const char* broken : {"", "[]", "{", R"({"a":1,})", R"({"a" 1})", R"({"a":"x)",
                             R"({"a":1}x)", R"({"a":{"b":1})", R"({a:1})", R"({"a":})"}) {
    INFO(broken);
    CHECK_FALSE(scan_json_fields(broken, fields));
  }
}

TEST_CASE("the envelope type is read from the front, or found by a scan", "[json_fields]") {
  CHECK(envelope_type(R"({"type":"join","room":"lobby","user":"a"})") == "join");
  CHECK(envelope_type(R"({"room":"lobby","type":"leave"})") == "leave");
  CHECK(envelope_type(R"( {"type" : "msg"})") == "msg");
  CHECK(envelope_type(R"({"type":"m\u0073g"})").empty());  // escaped: not a plain type
  CHECK(envelope_type(R"({"type":5})").empty());
  CHECK(envelope_type(R"({"type":"join)").empty());
  CHECK(envelope_type("USER").empty());
  // The front alone: what every frame of our server looks like.
  CHECK(leading_type(R"({"type":"join","room":"lobby","user":"a"})") == "join");
  CHECK(leading_type(R"({"room":"lobby","type":"leave"})").empty());
  CHECK(leading_type(R"({"type":"m\u0073g"})").empty());
  CHECK(leading_type(R"({"type":"msg)").empty());
  std::string scratch;
  CHECK(classify_json_frame(R"({"type":"m\u0073g","text":"x"})", scratch).kind ==
        frame_kind::message);
}

TEST_CASE("JSON string escapes decode to UTF-8", "[json_fields]") {
  std::string out;
  REQUIRE(unescape_json_string(R"(a\"\\\/\b\f\n\r\t\u00e9\u20ac\ud83d\ude00)", out));
  CHECK(out == "a\"\\/\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  for (const char* broken :
       {R"(\)", R"(\x)", R"(\u12)", R"(\u12g4)", R"(\ud83d)", R"(\ud83d\u0041)", R"(\ude00)"}) {
    INFO(broken);
    CHECK_FALSE(unescape_json_string(broken, out));
  }
}

TEST_CASE("the JSON scan agrees with a full parser on awkward texts", "[json_fields]") {
  // Quotes and backslash runs at every offset within the 8-byte words the
  // scan reads, texts of every length around those words, and escapes.
  const std::string pieces[] = {"\"",       "\\", "\\\\", "\\\"", "a", "text", "\":\"", "\t",
                                "\xC3\xA9", "{",  "}",    "[",    "]", ",",    "\x01",  "/"};
  std::uint32_t seed = 12345;
  const auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  std::string scratch;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const std::uint32_t count = 1 + next() % 24;
    for (std::uint32_t i = 0; i < count; ++i) text += pieces[next() % std::size(pieces)];
    const std::string frame =
        without_lf(protocol::encode_message(session_mode::json, next(), 1, "lobby", "alice", text));
    const auto expected = nlohmann::json::parse(frame)["text"].get<std::string>();
    const classified_frame seen = classify_json_frame(frame, scratch);
    INFO(frame);
    REQUIRE(seen.kind == frame_kind::message);
    REQUIRE(std::string(seen.text) == expected);
    REQUIRE(expected == text);
  }
}

TEST_CASE("message frames of other layouts are read as well", "[frame_text]") {
  std::string scratch;
  for (const char* frame : {
           R"({"type":"msg","id":1,"ts":2,"room":"lobby","from":"a","text":"~x"})",
           R"({"type":"msg","id":1,"ts":-2,"room":"lobby","from":"a","text":"~x"})",
           R"({"type":"msg","id":1,"ts":2,"room":"lobby","from":"a","text":"~x","history":true})",
           R"({"id":1,"type":"msg","ts":2,"room":"lobby","from":"a","text":"~x"})",
           R"({ "type": "msg", "id": 1, "ts": 2, "room": "lobby", "from": "a", "text": "~x" })",
           R"({"type":"msg","id":1,"ts":2,"room":"lo\"bby","from":"a","text":"~x"})",
           R"({"type":"msg","id":1,"ts":2,"room":"lobby","from":"a","text":"~x",)"
           R"("ref":{"text":"no"}})",
       }) {
    INFO(frame);
    const classified_frame seen = classify_json_frame(frame, scratch);
    CHECK(seen.kind == frame_kind::message);
    CHECK(seen.text == "~x");
  }
  // Close to the server's layout, but not JSON, or not a message text.
  for (const char* frame : {
           R"({"type":"msg","id":1,"ts":2,"room":"lobby","from":"a","text":"~x"}})",
           R"({"type":"msg","id":1,"ts":2,"room":"lobby","from":"a","text":"~x")",
           R"({"type":"msg","id":,"ts":2,"room":"lobby","from":"a","text":"~x"})",
           R"({"type":"msg","id":1,"ts":2,"room":"lobby","from":"a","text":5})",
       }) {
    INFO(frame);
    CHECK(classify_json_frame(frame, scratch).kind == frame_kind::malformed);
  }
}

TEST_CASE("JSON acks: the ref of chat-bench's own messages", "[frame_text]") {
  std::string scratch;
  auto seen = classify_json_frame(without_lf(protocol::encode_ack("1234", 41)), scratch);
  CHECK(seen.kind == frame_kind::ack);
  CHECK(seen.ref == 1234);
  seen = classify_json_frame(without_lf(protocol::encode_ack("18446744073709551615", 1)), scratch);
  CHECK(seen.kind == frame_kind::ack);
  CHECK(seen.ref == 18446744073709551615ull);

  // Another layout goes through the parser.
  seen = classify_json_frame(R"({"id":3,"type":"ack","ref":7})", scratch);
  CHECK(seen.kind == frame_kind::ack);
  CHECK(seen.ref == 7);
  seen = classify_json_frame(R"({"type":"ack","ref":7,"id":3,"extra":true})", scratch);
  CHECK(seen.kind == frame_kind::ack);
  CHECK(seen.ref == 7);

  // Refs chat-bench never sends.
  CHECK(classify_json_frame(without_lf(protocol::encode_ack(R"("x")", 1)), scratch).kind ==
        frame_kind::malformed);
  CHECK(classify_json_frame(without_lf(protocol::encode_ack("-1", 1)), scratch).kind ==
        frame_kind::malformed);
  CHECK(classify_json_frame(without_lf(protocol::encode_ack("null", 1)), scratch).kind ==
        frame_kind::malformed);
  CHECK(classify_json_frame(R"({"type":"ack","id":3})", scratch).kind == frame_kind::malformed);
  CHECK(classify_json_frame(R"({"type":"ack","ref":1)", scratch).kind == frame_kind::malformed);
}
