#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "protocol/json_text.hpp"

namespace {

using chat::protocol::append_json_string;

std::string json_literal(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// What a standard JSON parser reads back from our literal.
std::string read_back(const std::string& literal) {
  return nlohmann::json::parse(literal).get<std::string>();
}

}  // namespace

TEST_CASE("append_json_string escapes quotes, backslashes and control characters", "[json_text]") {
  CHECK(json_literal("") == R"("")");
  CHECK(json_literal("plain") == R"("plain")");
  CHECK(json_literal(R"(say "hi")") == R"("say \"hi\"")");
  CHECK(json_literal(R"(C:\dir\)") == R"("C:\\dir\\")");
  CHECK(json_literal("a\nb\rc\td") == R"("a\nb\rc\td")");
  CHECK(json_literal("\b\f") == R"("\b\f")");
  CHECK(json_literal(std::string("\0", 1)) == R"("\u0000")");
  CHECK(json_literal("\x01\x1f") == R"("\u0001\u001f")");
  // DEL and '/' need no escape in JSON; leaving them alone keeps frames short.
  CHECK(json_literal("\x7f/") == "\"\x7f/\"");
}

TEST_CASE("append_json_string keeps non-ASCII text as UTF-8 bytes", "[json_text]") {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x99\x82";
  CHECK(json_literal(text) == "\"" + text + "\"");
  CHECK(read_back(json_literal(text)) == text);
}

TEST_CASE("append_json_string round-trips every ASCII character through a JSON parser",
          "[json_text]") {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  CHECK(read_back(json_literal(all)) == all);
  for (char c : all) {
    INFO("character " << static_cast<int>(c));
    CHECK(read_back(json_literal(std::string(1, c))) == std::string(1, c));
  }
}

TEST_CASE("append_json_string appends to what is already there", "[json_text]") {
  std::string out = "{\"k\":";
  append_json_string(out, "v\"");
  CHECK(out == R"({"k":"v\"")");
}

namespace {

// The escaping append_json_string must produce, one byte at a time.
std::string reference_literal(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (byte < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[byte >> 4];
          out += hex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

TEST_CASE("append_json_string finds what to escape at any position of long text", "[json_text]") {
  // Bytes that need an escape, and UTF-8 bytes that differ from '"' (0x22),
  // '\\' (0x5C) or a control character only in their high bit.
  const std::string specials[] = {"\"", "\\", "\n", "\x01", "\x1f", std::string("\0", 1)};
  const std::string look_alikes = "\xC2\xA2\xC3\x9C\xC2\x80\xC2\x9F \x7f!#[]";
  for (std::size_t length = 0; length <= 40; ++length) {
    std::string base;
    while (base.size() < length) base += look_alikes;
    base.resize(length);
    CHECK(json_literal(base) == reference_literal(base));
    for (std::size_t at = 0; at <= length; ++at) {
      for (const std::string& special : specials) {
        std::string text = base;
        text.insert(at, special);
        INFO("length " << length << ", special " << static_cast<int>(special[0]) << " at " << at);
        CHECK(json_literal(text) == reference_literal(text));
        // Two in a row and one at the very end.
        text += special + special;
        CHECK(json_literal(text) == reference_literal(text));
      }
    }
  }
}

using chat::protocol::flat_json_object;

TEST_CASE("flat_json_object reads an object of scalars in place", "[json_text][flat]") {
  const std::string text =
      R"( { "type" : "msg", "text":"a\"b\u00e9", "ref":-12.5, "n":18446744073709551615,)"
      R"( "big":18446744073709551616, "z":0, "neg":-0, "t":true, "f":false, "x":null} )";
  // More members than one object holds: drop two.
  const std::string fits = text.substr(0, text.find(R"(, "f")")) + "}";
  flat_json_object object;
  REQUIRE(object.read(fits));
  CHECK(object.members().size() == 8);

  const auto* type = object.find("type");
  REQUIRE(type != nullptr);
  CHECK(type->kind == flat_json_object::value_kind::string);
  CHECK_FALSE(type->escaped);
  CHECK(flat_json_object::string_value(*type) == "msg");

  const auto* message = object.find("text");
  REQUIRE(message != nullptr);
  CHECK(message->escaped);
  CHECK(message->raw == R"("a\"b\u00e9")");
  CHECK(flat_json_object::string_value(*message) == "a\"b\xC3\xA9");

  const auto* ref = object.find("ref");
  REQUIRE(ref != nullptr);
  CHECK(ref->kind == flat_json_object::value_kind::number);
  CHECK(ref->raw == "-12.5");
  CHECK_FALSE(ref->is_unsigned);

  CHECK(object.find("n")->is_unsigned);
  CHECK(object.find("n")->unsigned_value == UINT64_MAX);
  CHECK_FALSE(object.find("big")->is_unsigned);
  CHECK(object.find("z")->is_unsigned);
  CHECK(object.find("z")->unsigned_value == 0);
  CHECK_FALSE(object.find("neg")->is_unsigned);
  CHECK(object.find("t")->kind == flat_json_object::value_kind::literal);
  CHECK(object.find("t")->raw == "true");
  CHECK(object.find("missing") == nullptr);

  CHECK_FALSE(object.read(text));
  REQUIRE(object.read(" { } "));
  CHECK(object.members().empty());
}

TEST_CASE("flat_json_object leaves the rest to a full parser", "[json_text][flat]") {
  for (const char* text : {
           "",
           "[]",
           "\"x\"",
           "{",
           R"({"a":1)",
           R"({"a":1,})",
           R"({"a" 1})",
           R"({"a":1}x)",
           R"({"a":[1]})",
           R"({"a":{}})",
           R"({"a":1,"a":2})",
           R"({"\u0061":1})",
           R"({"a":1e5})",
           R"({"a":01})",
           R"({"a":1.})",
           R"({"a":-})",
           R"({"a":tru})",
           R"({"a":"\ud800"})",
           R"({"a":"\udc00"})",
           R"({"a":"\q"})",
           "{\"a\":\"\x01\"}",
           "\xEF\xBB\xBF{}",
       }) {
    INFO("text: " << text);
    flat_json_object object;
    CHECK_FALSE(object.read(text));
  }
}

TEST_CASE("flat_json_object decodes strings as a JSON parser does", "[json_text][flat]") {
  for (const char* literal : {
           R"("")",
           R"("plain")",
           R"("\"\\\/\b\f\n\r\t")",
           R"("\u0000\u001f\u007f")",
           R"("\u00e9\u00E9\u07ff\u0800\u20ac\uffff")",
           R"("\ud83d\ude42\uDBFF\uDFFF")",
           "\"caf\xC3\xA9 \xF0\x9F\x99\x82 \\u00e9\"",
           R"("a long text with an escape at its end\n")",
       }) {
    INFO("literal: " << literal);
    const std::string text = std::string(R"({"k":)") + literal + "}";
    flat_json_object object;
    REQUIRE(object.read(text));
    CHECK(flat_json_object::string_value(*object.find("k")) ==
          nlohmann::json::parse(literal).get<std::string>());
  }
}
