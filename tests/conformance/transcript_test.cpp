#include "conformance/transcript.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

namespace conf = chat::conformance;
using conf::frame_expectation;

namespace {

conf::step only_step(std::string_view text) {
  const conf::transcript t = conf::parse_transcript(text, "t.chat");
  REQUIRE(t.steps.size() == 1);
  return t.steps.front();
}

// The one step after "a connects".
conf::step step_after_connect(const std::string& line) {
  const conf::transcript t = conf::parse_transcript("a connects\n" + line + "\n", "t.chat");
  REQUIRE(t.steps.size() == 2);
  return t.steps.back();
}

std::string sent_bytes(const std::string& line) {
  const conf::step s = step_after_connect(line);
  REQUIRE(std::holds_alternative<conf::action::send>(s.what));
  return std::get<conf::action::send>(s.what).bytes;
}

frame_expectation expected_frame(const std::string& line) {
  const conf::step s = step_after_connect(line);
  REQUIRE(std::holds_alternative<conf::action::receive_frame>(s.what));
  return std::get<conf::action::receive_frame>(s.what).expected;
}

// Parses `text` expecting a transcript_error at `line` whose reason contains `fragment`.
void require_rejected(std::string_view text, std::size_t line, std::string_view fragment) {
  INFO("transcript:\n" << text);
  try {
    conf::parse_transcript(text, "bad.chat");
    FAIL("the transcript was accepted");
  } catch (const conf::transcript_error& error) {
    CHECK(error.line() == line);
    CHECK_THAT(error.reason(), Catch::Contains(std::string(fragment)));
    const std::string where = line == 0 ? "" : ":" + std::to_string(line);
    CHECK_THAT(error.what(), Catch::StartsWith("bad.chat" + where + ": "));
  }
}

}  // namespace

TEST_CASE("steps keep their line number, their text and their connection", "[transcript]") {
  const conf::transcript t = conf::parse_transcript(
      "# a comment\n"
      "\n"
      "alice connects\r\n"
      "   alice receives USER   \n"
      "  # an indented comment\n"
      "alice disconnects\n",
      "t.chat");
  CHECK(t.name == "t.chat");
  REQUIRE(t.steps.size() == 3);
  CHECK(t.steps[0].line == 3);
  CHECK(t.steps[0].client == "alice");
  CHECK(std::holds_alternative<conf::action::connect>(t.steps[0].what));
  CHECK(t.steps[1].line == 4);
  CHECK(t.steps[1].source == "alice receives USER");
  CHECK(std::holds_alternative<conf::action::disconnect>(t.steps[2].what));
}

TEST_CASE("sends: the line as written, quoted, repeated or as raw bytes", "[transcript]") {
  CHECK(sent_bytes("a sends hello there") == "hello there\n");
  CHECK(sent_bytes(R"(a sends {"type":"ping"})") == "{\"type\":\"ping\"}\n");
  // Only a whole word is a keyword.
  CHECK(sent_bytes("a sends lines of text") == "lines of text\n");
  CHECK(sent_bytes("a sends bytesize") == "bytesize\n");

  CHECK(sent_bytes(R"(a sends line "  padded  ")") == "  padded  \n");
  CHECK(sent_bytes(R"(a sends line "line")") == "line\n");
  CHECK(sent_bytes(R"(a sends line of 3 "ab")") == "ababab\n");
  CHECK(sent_bytes(R"(a sends bytes "x\r\ny")") == "x\r\ny");
  CHECK(sent_bytes(R"(a sends bytes of 2 "\xff")") == "\xff\xff");
}

TEST_CASE("quoted strings decode every escape", "[transcript]") {
  CHECK(sent_bytes(R"(a sends bytes "\\ \" \n \r \t \0 \x41\xfE")") ==
        std::string("\\ \" \n \r \t \0 A\xfe", 14));
  CHECK(sent_bytes(R"(a sends bytes "café")") == "café");
}

TEST_CASE("receives: exact, prefix, substring, JSON, nothing, closed", "[transcript]") {
  using kind = frame_expectation::kind;
  const auto exact = expected_frame("a receives * welcome a, you are in lobby");
  CHECK(exact.how == kind::exact);
  CHECK(exact.text == "* welcome a, you are in lobby");

  CHECK(expected_frame(R"(a receives line "nothing")").text == "nothing");
  CHECK(expected_frame(R"(a receives line starting with "! error ")").how == kind::starts_with);
  CHECK(expected_frame(R"(a receives line containing "bob: hi")").how == kind::contains);

  // JSON is stored compact, whatever its spacing.
  const auto json = expected_frame(R"(a receives { "type" : "pong" })");
  CHECK(json.how == kind::json);
  CHECK(json.text == R"({"type":"pong"})");
  CHECK(expected_frame(R"(a receives ["*"])").how == kind::json);

  CHECK(std::holds_alternative<conf::action::receive_nothing>(
      step_after_connect("a receives nothing").what));
  CHECK(std::holds_alternative<conf::action::receive_closed>(
      step_after_connect("a receives closed").what));
}

TEST_CASE("check compares captures and numbers in a chain", "[transcript]") {
  const conf::transcript t = conf::parse_transcript(
      "a connects\n"
      R"(a receives {"id":"$one","ts":"$ts"})"
      "\n"
      "check $one < $ts <= 10 != -2.5\n",
      "t.chat");
  const auto& check = std::get<conf::action::check>(t.steps.back().what);
  REQUIRE(check.operands.size() == 4);
  CHECK(check.operands[0].is_capture);
  CHECK(check.operands[0].text == "one");
  CHECK_FALSE(check.operands[2].is_capture);
  CHECK(check.operands[3].text == "-2.5");
  CHECK(check.relations ==
        std::vector{conf::relation::less, conf::relation::less_equal, conf::relation::not_equal});
}

TEST_CASE("set changes the timeout and the quiet period", "[transcript]") {
  using namespace std::chrono_literals;
  CHECK(std::get<conf::action::set_timeout>(only_step("set timeout 40 s").what).value == 40s);
  CHECK(std::get<conf::action::set_timeout>(only_step("set timeout 1500ms").what).value == 1500ms);
  CHECK(std::get<conf::action::set_quiet>(only_step("set quiet 50 ms").what).value == 50ms);
}

TEST_CASE("a connection can be opened again after it ended", "[transcript]") {
  const conf::transcript t = conf::parse_transcript(
      "a connects\na disconnects\na connects\na sends /quit\na receives closed\na connects\n",
      "t.chat");
  CHECK(t.steps.size() == 6);
}

TEST_CASE("malformed transcripts are rejected with the line at fault", "[transcript]") {
  require_rejected("", 0, "no steps");
  require_rejected("# only a comment\n\n", 2, "no steps");
  require_rejected("a connects\na jumps\n", 2, "expected connects, disconnects, sends or receives");
  require_rejected("1a connects\n", 1, "expected a connection name");
  require_rejected("a connects now\n", 1, "nothing may follow");
  require_rejected("a connects\n\na connects\n", 3, "already connected");
  require_rejected("a sends hi\n", 1, "not connected");
  require_rejected("a connects\na disconnects\na sends hi\n", 3, "not connected");
  require_rejected("a connects\na receives closed\na receives USER\n", 3, "not connected");

  require_rejected("a connects\na sends\n", 2, "needs something to send");
  require_rejected("a connects\na sends line hello\n", 2, "double-quoted");
  require_rejected("a connects\na sends line \"open\n", 2, "no closing quote");
  require_rejected("a connects\na sends line \"x\" y\n", 2, "after the closing quote");
  require_rejected("a connects\na sends bytes \"\\q\"\n", 2, "unknown escape");
  require_rejected("a connects\na sends bytes \"\\x4\"\n", 2, "two hex digits");
  require_rejected("a connects\na sends bytes \"\\\"\n", 2, "no closing quote");
  require_rejected("a connects\na sends line of 0 \"x\"\n", 2, "positive count");
  require_rejected("a connects\na sends line of many \"x\"\n", 2, "positive count");
  require_rejected("a connects\na sends line of 3 \"\"\n", 2, "1 byte to 64 MiB");
  require_rejected("a connects\na sends bytes of 99999999999 \"x\"\n", 2, "1 byte to 64 MiB");

  require_rejected("a connects\na receives\n", 2, "needs an expectation");
  require_rejected("a connects\na receives {\"type\":}\n", 2, "does not parse");
  require_rejected("a connects\na receives {\"id\":\"$1d\"}\n", 2, "neither a capture");
  require_rejected("a connects\na receives line starting \"x\"\n", 2, "line starting with");

  require_rejected("check $x < 1\n", 1, "not captured");
  require_rejected("a connects\na receives {\"id\":\"$x\"}\ncheck $x <\n", 3, "check OPERAND");
  require_rejected("a connects\na receives {\"id\":\"$x\"}\ncheck $x\n", 3, "check OPERAND");
  require_rejected("a connects\na receives {\"id\":\"$x\"}\ncheck $x = 1\n", 3, "expected one of");
  require_rejected("a connects\na receives {\"id\":\"$x\"}\ncheck $x < abc\n", 3, "a number");
  require_rejected("a connects\na receives {\"id\":\"$x\"}\ncheck $x < \"1\"\n", 3, "a number");

  require_rejected("set timeout\n", 1, "duration");
  require_rejected("set timeout 3 minutes\n", 1, "duration");
  require_rejected("set speed 3 s\n", 1, "set timeout DURATION");
}

TEST_CASE("an unreadable file is reported without a line", "[transcript]") {
  try {
    conf::load_transcript("/nonexistent/x.chat");
    FAIL("no error");
  } catch (const conf::transcript_error& error) {
    CHECK(error.line() == 0);
    CHECK_THAT(error.what(), Catch::StartsWith("/nonexistent/x.chat: cannot open"));
  }
}

TEST_CASE("every transcript shipped in protocol/conformance parses", "[transcript]") {
  std::size_t count = 0;
  // accounts/ included.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(CHAT_CONFORMANCE_DIR)) {
    if (entry.path().extension() != ".chat") continue;
    INFO(entry.path());
    CHECK_NOTHROW(conf::load_transcript(entry.path().string()));
    ++count;
  }
  CHECK(count > 0);
}
