// resp_parser (hiredis's redisReader behind our object functions and
// limits) fed the input three ways: whole, in pieces the input chooses, and
// one byte at a time. The replies of any two agree as far as both go, and
// when none fails all three have the same replies. (They may fail apart:
// the bound on bytes held for an incomplete reply is checked after each
// feed, so a long line can pass in one feed and not byte by byte.) A parser
// that failed gives nothing more, and no reply is larger than the limits
// allow. The first byte of the input chooses small limits, so that
// refusals are reached.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "redis/resp.hpp"

namespace {

using chat::redis::parser_limits;
using chat::redis::reply;
using chat::redis::resp_parser;

struct outcome {
  std::vector<reply> replies;
  bool failed = false;
};

// Bytes of strings in `r` and its elements, and its element count, checked
// against the limits on the way.
std::size_t string_bytes(const reply& r, const parser_limits& limits) {
  chat::fuzz::require(r.elements().size() <= limits.max_elements, "an array within max_elements");
  std::size_t total = r.text().size();
  for (const reply& element : r.elements()) total += string_bytes(element, limits);
  return total;
}

outcome parse(std::string_view stream, const parser_limits& limits,
              const std::vector<std::size_t>& cuts) {
  resp_parser parser(limits);
  outcome out;
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < stream.size(); ++i) {
    const std::size_t size = cuts.empty() ? stream.size() : cuts[i % cuts.size()];
    const std::string_view piece = stream.substr(pos, size);
    pos += piece.size();
    const bool ok = parser.feed(piece);
    while (std::optional<reply> r = parser.next()) out.replies.push_back(std::move(*r));
    if (!ok) {
      out.failed = true;
      chat::fuzz::require(parser.failed() && !parser.error().empty(), "a failure says why");
      chat::fuzz::require(!parser.feed("+OK\r\n") && !parser.next(),
                          "a failed parser stays failed");
      break;
    }
  }
  if (!out.failed) {
    chat::fuzz::require(parser.buffered() <= limits.max_reply_bytes, "what waits is bounded");
  }
  return out;
}

// The same replies as far as both go; all the same if neither failed.
void agree(const outcome& a, const outcome& b, std::string_view stream) {
  const std::size_t common = std::min(a.replies.size(), b.replies.size());
  for (std::size_t i = 0; i < common; ++i) {
    chat::fuzz::require(a.replies[i] == b.replies[i], "the same replies however fed", stream);
  }
  if (!a.failed && !b.failed) {
    chat::fuzz::require(a.replies.size() == b.replies.size(), "as many replies however fed",
                        stream);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chat::fuzz::input_reader input(chat::fuzz::as_text(data, size));
  const std::uint8_t choice = input.byte();
  parser_limits limits;
  if (choice & 1) limits = {std::size_t{64} + (choice >> 1) * 8, std::size_t{1} + (choice >> 4)};
  std::vector<std::size_t> cuts;
  for (int i = 0; i < 4; ++i) cuts.push_back(std::size_t{1} + input.byte() % 16);
  const std::string_view stream = input.rest();

  const outcome whole = parse(stream, limits, {});
  const outcome pieces = parse(stream, limits, cuts);
  const outcome bytes = parse(stream, limits, {1});
  agree(whole, pieces, stream);
  agree(whole, bytes, stream);
  agree(pieces, bytes, stream);
  for (const reply& r : bytes.replies) {
    chat::fuzz::require(string_bytes(r, limits) <= limits.max_reply_bytes,
                        "a reply within max_reply_bytes");
  }
  return 0;
}
