#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "client/line_buffer.hpp"

namespace {

using chat::client::line_buffer;

// Feeds `bytes` in reads of at most `chunk` bytes, as a stream would deliver
// them, and collects the lines ("<too long>" for an oversized one).
std::vector<std::string> lines_of(std::string_view bytes, std::size_t chunk, std::size_t max_line,
                                  bool end_of_stream = false) {
  line_buffer buffer(max_line, chunk);
  std::vector<std::string> lines;
  auto drain = [&] {
    while (auto line = buffer.next()) lines.push_back(line->too_long ? "<too long>" : line->text);
  };
  while (!bytes.empty()) {
    const auto space = buffer.space();
    const std::size_t count = std::min(space.size(), bytes.size());
    std::copy_n(bytes.begin(), count, space.begin());
    buffer.commit(count);
    bytes.remove_prefix(count);
    drain();
  }
  if (end_of_stream) {
    buffer.commit_end_of_stream();
    drain();
  }
  return lines;
}

}  // namespace

TEST_CASE("line_buffer hands out one line per call whatever the read sizes", "[line_buffer]") {
  const std::string_view input = "alpha\r\nbeta\n\ngamma\n";
  const std::vector<std::string> expected{"alpha", "beta", "gamma"};
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u}) {
    INFO("read size " << chunk);
    CHECK(lines_of(input, chunk, 100) == expected);
  }
}

TEST_CASE("line_buffer holds an unfinished line until its LF", "[line_buffer]") {
  line_buffer buffer(100, 16);
  auto put = [&](std::string_view bytes) {
    std::copy(bytes.begin(), bytes.end(), buffer.space().begin());
    buffer.commit(bytes.size());
  };
  put("par");
  CHECK_FALSE(buffer.next());
  put("tial\nne");
  auto line = buffer.next();
  REQUIRE(line);
  CHECK(line->text == "partial");
  CHECK_FALSE(buffer.next());
}

TEST_CASE("line_buffer reports an oversized line once and goes on", "[line_buffer]") {
  const std::string input = "ok\n" + std::string(50, 'x') + "\nnext\n";
  for (std::size_t chunk : {1u, 5u, 64u}) {
    INFO("read size " << chunk);
    CHECK(lines_of(input, chunk, 10) == std::vector<std::string>{"ok", "<too long>", "next"});
  }
}

TEST_CASE("line_buffer gives the unterminated last line at end of stream", "[line_buffer]") {
  CHECK(lines_of("one\ntwo", 4, 100, true) == std::vector<std::string>{"one", "two"});
  CHECK(lines_of("one\n", 4, 100, true) == std::vector<std::string>{"one"});
  CHECK(lines_of("", 4, 100, true).empty());
}
