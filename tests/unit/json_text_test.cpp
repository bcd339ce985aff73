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
