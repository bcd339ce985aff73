// The line framer against a model of it, fed three ways: in one piece, in
// pieces of the sizes the input picks (empty ones too), and one event per
// call, resuming from what each call consumed. Every way must report
// exactly what the model says the whole stream holds.
//
// Input: one byte for max_line (1..256), one for the piece sizes, then the stream.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "protocol/line_framer.hpp"

namespace {

using chat::fuzz::require;
using chat::protocol::line_framer;

// Frames as their text, oversized lines as one marker (a frame is never
// empty, so the empty string cannot be one).
using events = std::vector<std::string>;
const std::string too_long;

events model(std::string_view stream, std::size_t max_line) {
  events out;
  std::size_t pos = 0;
  for (std::size_t lf; (lf = stream.find('\n', pos)) != std::string_view::npos; pos = lf + 1) {
    std::string_view line = stream.substr(pos, lf - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > max_line) {
      out.push_back(too_long);
    } else if (!line.empty()) {
      out.emplace_back(line);
    }
  }
  // An unfinished line is reported once it cannot fit, CR or not.
  if (stream.size() - pos > max_line + 1) out.push_back(too_long);
  return out;
}

void check_event(line_framer::event event, std::string_view frame, std::size_t max_line) {
  if (event == line_framer::event::too_long) {
    require(frame.empty(), "an oversized line carries no text");
    return;
  }
  require(!frame.empty(), "a frame is never empty");
  require(frame.size() <= max_line, "a frame fits max_line", frame);
  require(frame.find('\n') == std::string_view::npos, "a frame holds no LF", frame);
}

void check_after(const line_framer& framer, std::string_view stream, const events& got) {
  const std::size_t max_line = framer.max_line();
  require(got == model(stream, max_line), "the framer reports what the model does", stream);
  const bool unfinished = !stream.empty() && !stream.ends_with('\n');
  require(framer.has_partial() == unfinished, "has_partial() is whether a line is unfinished");
  require(framer.held_bytes() <= 512 + 2 * (max_line + 2), "held bytes stay bounded");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chat::fuzz::input_reader in(chat::fuzz::as_text(data, size));
  const std::size_t max_line = 1 + in.byte();
  const unsigned piece_seed = in.byte();
  const std::string_view stream = in.rest();

  const auto recorder = [max_line](events& out) {
    return [&out, max_line](line_framer::event event, std::string_view frame) {
      check_event(event, frame, max_line);
      out.push_back(event == line_framer::event::too_long ? too_long : std::string(frame));
      return true;
    };
  };

  {
    line_framer framer(max_line);
    events got;
    require(framer.feed(stream, recorder(got)) == stream.size(), "feed consumes all it is given");
    check_after(framer, stream, got);
  }
  {
    line_framer framer(max_line);
    events got;
    // Piece sizes 0..31 from a small linear congruential sequence.
    unsigned state = piece_seed;
    for (std::size_t pos = 0; pos < stream.size();) {
      state = state * 1103515245u + 12345u;
      const std::string_view piece = stream.substr(pos, (state >> 16) % 32);
      require(framer.feed(piece, recorder(got)) == piece.size(), "feed consumes all it is given");
      pos += piece.size();
    }
    check_after(framer, stream, got);
  }
  {
    line_framer framer(max_line);
    events got;
    std::string_view rest = stream;
    while (!rest.empty()) {
      const std::size_t consumed =
          framer.feed(rest, [&](line_framer::event event, std::string_view frame) {
            check_event(event, frame, max_line);
            got.push_back(event == line_framer::event::too_long ? too_long : std::string(frame));
            return false;
          });
      require(consumed > 0 && consumed <= rest.size(), "a stopped feed still makes progress");
      rest.remove_prefix(consumed);
    }
    check_after(framer, stream, got);
  }
  return 0;
}
