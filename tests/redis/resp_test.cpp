#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "redis/resp.hpp"

using chat::redis::parser_limits;
using chat::redis::reply;
using chat::redis::resp_parser;

namespace {

// Every reply in `bytes`, fed one byte at a time; checks that no feed fails.
std::vector<reply> parse_bytewise(std::string_view bytes, parser_limits limits = {}) {
  resp_parser parser(limits);
  std::vector<reply> out;
  for (char c : bytes) {
    INFO(parser.error());
    REQUIRE(parser.feed(std::string_view(&c, 1)));
    while (auto r = parser.next()) out.push_back(std::move(*r));
  }
  REQUIRE(parser.buffered() == 0);
  return out;
}

// Whether any feed of `bytes`, one byte at a time, fails; the error is kept.
bool refused_bytewise(std::string_view bytes, parser_limits limits, std::string& error) {
  resp_parser parser(limits);
  for (char c : bytes) {
    if (!parser.feed(std::string_view(&c, 1))) {
      error = parser.error();
      REQUIRE(parser.failed());
      // Failed for good: nothing more is read.
      REQUIRE_FALSE(parser.feed("+OK\r\n"));
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("a command is an array of bulk strings, binary bytes kept") {
  const std::vector<std::string_view> args = {"SET", "k", std::string_view("a\0\r\nb", 5)};
  CHECK(chat::redis::encode_command(args) ==
        std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0\r\nb\r\n", 31));
  std::string out = "x";
  const std::vector<std::string_view> ping = {"PING"};
  chat::redis::append_command(out, ping);
  chat::redis::append_command(out, ping);
  CHECK(out == "x*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
  CHECK(chat::redis::encode_command({}) == "*0\r\n");
}

TEST_CASE("every kind of reply, fed one byte at a time") {
  const std::string stream =
      "+OK\r\n"
      "-ERR unknown command\r\n"
      ":-42\r\n"
      "$5\r\nhe\r\no\r\n"
      "$0\r\n\r\n"
      "$-1\r\n"
      "*-1\r\n"
      "*0\r\n"
      "*3\r\n:1\r\n$1\r\na\r\n*2\r\n+x\r\n$-1\r\n";
  const std::vector<reply> replies = parse_bytewise(stream);
  REQUIRE(replies.size() == 9);
  CHECK(replies[0] == reply::status("OK"));
  CHECK(replies[0].is_status("OK"));
  CHECK(replies[1] == reply::error("ERR unknown command"));
  CHECK(replies[2] == reply::integer(-42));
  CHECK(replies[3] == reply::bulk("he\r\no"));
  CHECK(replies[4] == reply::bulk(""));
  CHECK(replies[5].is_nil());
  CHECK(replies[6].is_nil());
  CHECK(replies[7] == reply::array({}));
  CHECK(replies[8] == reply::array({reply::integer(1), reply::bulk("a"),
                                    reply::array({reply::status("x"), reply::nil()})}));
  CHECK(replies[8].describe() == "[1, \"a\", [+x, nil]]");
  CHECK(replies[3].as_optional_string() == "he\r\no");
  CHECK_FALSE(replies[5].as_optional_string());
}

TEST_CASE("replies fed whole and byte by byte are the same") {
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += "*2\r\n$3\r\nkey\r\n:" + std::to_string(i) + "\r\n";
  resp_parser whole;
  REQUIRE(whole.feed(stream));
  const std::vector<reply> bytewise = parse_bytewise(stream);
  REQUIRE(bytewise.size() == 50);
  for (const reply& r : bytewise) {
    auto w = whole.next();
    REQUIRE(w);
    CHECK(*w == r);
  }
  CHECK_FALSE(whole.next());
}

TEST_CASE("a protocol error fails the parser for good") {
  std::string error;
  REQUIRE(refused_bytewise("+OK\r\n?what\r\n", {}, error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("a bulk string past the limit is refused before its bytes arrive") {
  const parser_limits limits{1000, 100};
  std::string error;
  // Only the header: the length alone is enough to refuse once it is read.
  // The bytes are never sent, so nothing waits for them.
  REQUIRE(refused_bytewise("$100000000\r\n" + std::string(2000, 'x'), limits, error));
  CHECK(error.find("1000 bytes") != std::string::npos);
}

TEST_CASE("a bulk string under the limit passes, and one just over it is refused") {
  const parser_limits limits{1000, 100};
  CHECK(parse_bytewise("$900\r\n" + std::string(900, 'y') + "\r\n", limits).size() == 1);
  std::string error;
  CHECK(refused_bytewise("$1000\r\n" + std::string(1000, 'y') + "\r\n", limits, error));
}

TEST_CASE("an array with too many elements is refused at its header") {
  const parser_limits limits{std::size_t{1} << 30, 100};
  std::string error;
  REQUIRE(refused_bytewise("*2000000000\r\n", limits, error));
  CHECK(error.find("2000000000 elements") != std::string::npos);
  CHECK(refused_bytewise("*101\r\n", limits, error));
  CHECK(parse_bytewise(
            "*100\r\n" +
                [] {
                  std::string s;
                  for (int i = 0; i < 100; ++i) s += ":1\r\n";
                  return s;
                }(),
            limits)
            .size() == 1);
}

TEST_CASE("many small elements add up to the reply's limit") {
  // 50 strings of 100 bytes fit in an array's element count but not in 4000 bytes.
  const parser_limits limits{4000, 1000};
  std::string stream = "*50\r\n";
  for (int i = 0; i < 50; ++i) stream += "$100\r\n" + std::string(100, 'z') + "\r\n";
  std::string error;
  REQUIRE(refused_bytewise(stream, limits, error));
  CHECK(error.find("4000 bytes") != std::string::npos);
}

TEST_CASE("a line that never ends is refused once it passes the limit") {
  const parser_limits limits{1000, 100};
  std::string error;
  REQUIRE(refused_bytewise("+" + std::string(5000, 'a'), limits, error));
  CHECK(error.find("incomplete reply") != std::string::npos);
}

TEST_CASE("arrays nested deeper than hiredis reads are a protocol error") {
  std::string nested;
  for (int i = 0; i < 12; ++i) nested += "*1\r\n";
  nested += ":1\r\n";
  std::string error;
  REQUIRE(refused_bytewise(nested, {}, error));
  CHECK_FALSE(error.empty());
}
