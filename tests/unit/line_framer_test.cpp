#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/line_framer.hpp"

namespace {

using chat::protocol::line_framer;
using std::string_literals::operator""s;

// How an oversized line shows up in the transcripts below.
const std::string too_long = "<too long>";

// Everything the framer reported, in order: frames as their text, oversized
// lines as `too_long`. Comparing whole transcripts shows both what came out
// and what did not.
using transcript = std::vector<std::string>;

void record(transcript& out, line_framer::event event, std::string_view frame) {
  if (event == line_framer::event::too_long) {
    // An oversized line carries no text: the framer never kept it.
    CHECK(frame.empty());
    out.push_back(too_long);
  } else {
    out.emplace_back(frame);
  }
}

// Feeds `chunks` one after the other, as separate reads would deliver them.
transcript feed_chunks(line_framer& framer, const std::vector<std::string_view>& chunks) {
  transcript out;
  for (const std::string_view chunk : chunks) {
    const std::size_t consumed =
        framer.feed(chunk, [&](line_framer::event event, std::string_view frame) {
          record(out, event, frame);
          return true;
        });
    // A handler that never says stop lets feed consume everything.
    CHECK(consumed == chunk.size());
  }
  return out;
}

transcript feed_once(std::size_t max_line, std::string_view bytes) {
  line_framer framer(max_line);
  return feed_chunks(framer, {bytes});
}

transcript feed_bytewise(std::size_t max_line, std::string_view bytes) {
  line_framer framer(max_line);
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < bytes.size(); ++i) chunks.push_back(bytes.substr(i, 1));
  return feed_chunks(framer, chunks);
}

// However a stream is cut into reads, the frames must be the same: this checks
// one byte at a time and every cut into two pieces against a single feed.
void check_split_invariant(std::size_t max_line, std::string_view bytes,
                           const transcript& expected) {
  INFO("max_line " << max_line << ", stream " << bytes.size() << " bytes");
  CHECK(feed_once(max_line, bytes) == expected);
  CHECK(feed_bytewise(max_line, bytes) == expected);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    INFO("cut at " << cut);
    line_framer framer(max_line);
    CHECK(feed_chunks(framer, {bytes.substr(0, cut), bytes.substr(cut)}) == expected);
  }
}

}  // namespace

TEST_CASE("line_framer splits a stream into LF-ended frames", "[line_framer]") {
  check_split_invariant(64, "alice\nhello there\nbye\n", {"alice", "hello there", "bye"});
}

TEST_CASE("line_framer holds a partial frame until its LF arrives", "[line_framer]") {
  line_framer framer(64);
  CHECK_FALSE(framer.has_partial());

  CHECK(feed_chunks(framer, {"hel"}).empty());
  CHECK(framer.has_partial());
  CHECK(feed_chunks(framer, {"lo wor"}).empty());
  CHECK(framer.has_partial());

  CHECK(feed_chunks(framer, {"ld\nnext"}) == transcript{"hello world"});
  CHECK(framer.has_partial());
  CHECK(feed_chunks(framer, {"\n"}) == transcript{"next"});
  CHECK_FALSE(framer.has_partial());
}

TEST_CASE("line_framer drops the CR of a CRLF, even when the LF comes in a later read",
          "[line_framer]") {
  check_split_invariant(64, "one\r\ntwo\r\nthree\n", {"one", "two", "three"});

  line_framer framer(64);
  CHECK(feed_chunks(framer, {"abc\r"}).empty());
  CHECK(feed_chunks(framer, {"\n"}) == transcript{"abc"});
}

TEST_CASE("line_framer keeps a CR that is not right before the LF", "[line_framer]") {
  check_split_invariant(64, "a\rb\n\rlead\n", {"a\rb", "\rlead"});
  // Only the one CR right before the LF belongs to the line ending.
  check_split_invariant(64, "x\r\r\n", {"x\r"});
}

TEST_CASE("line_framer ignores empty lines, with or without CR", "[line_framer]") {
  check_split_invariant(64, "\n\r\n\nx\n\n", {"x"});
  check_split_invariant(64, "\n\n\n", {});
}

TEST_CASE("line_framer accepts a line of exactly max_line bytes and rejects max_line + 1",
          "[line_framer]") {
  constexpr std::size_t max_line = 8;
  const std::string at_limit(max_line, 'a');
  const std::string over_limit(max_line + 1, 'b');

  SECTION("without CR") {
    check_split_invariant(max_line, at_limit + "\n", {at_limit});
    check_split_invariant(max_line, over_limit + "\nok\n", {too_long, "ok"});
  }
  SECTION("with CR, which does not count towards the limit") {
    check_split_invariant(max_line, at_limit + "\r\n", {at_limit});
    check_split_invariant(max_line, over_limit + "\r\nok\n", {too_long, "ok"});
  }
  SECTION("a kept CR inside the line does count") {
    check_split_invariant(max_line, std::string(max_line, 'c') + "\r\r\n", {too_long});
    check_split_invariant(max_line, std::string(max_line - 1, 'c') + "\r\r\n",
                          {std::string(max_line - 1, 'c') + "\r"});
  }
}

TEST_CASE("line_framer reports an oversized line once, discards its rest, then goes on",
          "[line_framer]") {
  constexpr std::size_t max_line = 16;
  const std::string huge(20 * max_line, 'x');

  check_split_invariant(max_line, "before\n" + huge + "\nafter\n", {"before", too_long, "after"});
  check_split_invariant(max_line, huge + "\r\n" + huge + "\nok\r\n", {too_long, too_long, "ok"});

  SECTION("reported as soon as the limit is passed, not when the LF finally arrives") {
    line_framer framer(max_line);
    CHECK(feed_chunks(framer, {huge}) == transcript{too_long});
    CHECK(framer.has_partial());
    CHECK(feed_chunks(framer, {huge, huge}).empty());
    CHECK(feed_chunks(framer, {"tail of it\nnext\n"}) == transcript{"next"});
    CHECK_FALSE(framer.has_partial());
  }
}

TEST_CASE("line_framer stops when the handler says so and resumes where it stopped",
          "[line_framer]") {
  line_framer framer(8);
  const std::string_view bytes = "one\nwaytoolongline\ntwo\nthree";
  transcript seen;
  auto stop_after_each = [&](line_framer::event event, std::string_view frame) {
    record(seen, event, frame);
    return false;
  };

  std::size_t offset = 0;
  std::vector<std::size_t> stops;
  while (offset < bytes.size()) {
    const std::size_t consumed = framer.feed(bytes.substr(offset), stop_after_each);
    REQUIRE(consumed > 0);
    offset += consumed;
    stops.push_back(offset);
  }

  // Each stop lands right after the LF of the frame that was just reported;
  // the unfinished "three" is consumed into the framer without a report.
  CHECK(stops == std::vector<std::size_t>{4, 19, 23, bytes.size()});
  CHECK(seen == transcript{"one", too_long, "two"});
  CHECK(framer.has_partial());
  CHECK(feed_chunks(framer, {"\n"}) == transcript{"three"});
}

TEST_CASE("line_framer gives back the memory of a long line once it is finished", "[line_framer]") {
  line_framer framer(64 * 1024);
  const std::string long_half(30'000, 'a');
  CHECK(feed_chunks(framer, {long_half}).empty());
  CHECK(framer.held_bytes() >= long_half.size());
  CHECK(feed_chunks(framer, {long_half, "\n"}) == transcript{long_half + long_half});
  CHECK(framer.held_bytes() <= 512);
  // An oversized line gives its memory back too.
  CHECK(feed_chunks(framer, {long_half, long_half, long_half}) == transcript{too_long});
  CHECK(framer.held_bytes() <= 512);
}
