#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chat::protocol {

// Splits a byte stream into LF-ended frames without ever holding more than
// `max_line` bytes of an unfinished line. Sans-I/O: the caller feeds whatever
// a read returned and gets frames back through a callback, so the same code
// serves the server, the client and the tests.
class line_framer {
public:
  enum class event { frame, too_long };

  explicit line_framer(std::size_t max_line) : max_line_(max_line) {}

  // Calls `on(event, frame)` for each complete non-empty frame in `bytes` and
  // once per oversized line (with an empty view). A trailing CR is dropped.
  // `on` returns false to stop early; feed then returns the bytes consumed so
  // the caller can resume from there.
  template <class Handler>
  std::size_t feed(std::string_view bytes, Handler&& on);

  // True while part of a line is held back waiting for its LF.
  bool has_partial() const noexcept { return !partial_.empty() || discarding_; }

  // Memory held for unfinished lines. Once a long line is finished this
  // falls back to a small bound, so that a connection that once sent a line
  // in pieces does not keep up to max_line bytes for the rest of its life.
  std::size_t held_bytes() const noexcept { return partial_.capacity(); }

  std::size_t max_line() const noexcept { return max_line_; }

private:
  // Emits one line (LF already removed); returns the handler's verdict.
  template <class Handler>
  bool emit(std::string_view line, Handler& on);

  // Empties partial_, giving back a buffer grown by a long line.
  void drop_partial() {
    if (partial_.capacity() > kept_capacity) {
      std::string().swap(partial_);
    } else {
      partial_.clear();
    }
  }

  // Enough for the pieces of ordinary chat lines.
  static constexpr std::size_t kept_capacity = 512;

  std::size_t max_line_;
  // The unfinished tail of the previous feed; bounded by max_line_.
  std::string partial_;
  // Set after an oversized line was reported, until its LF arrives.
  bool discarding_ = false;
};

template <class Handler>
bool line_framer::emit(std::string_view line, Handler& on) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_line_) return on(event::too_long, std::string_view{});
  if (line.empty()) return true;
  return on(event::frame, line);
}

template <class Handler>
std::size_t line_framer::feed(std::string_view bytes, Handler&& on) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t lf = bytes.find('\n', pos);
    if (lf == std::string_view::npos) {
      const std::string_view tail = bytes.substr(pos);
      if (discarding_) return bytes.size();
      // A CR may still be dropped when its LF arrives, so allow one extra byte.
      if (partial_.size() + tail.size() > max_line_ + 1) {
        drop_partial();
        discarding_ = true;
        on(event::too_long, std::string_view{});
        return bytes.size();
      }
      partial_.append(tail);
      return bytes.size();
    }
    const std::string_view piece = bytes.substr(pos, lf - pos);
    pos = lf + 1;
    if (discarding_) {
      discarding_ = false;
      continue;
    }
    bool more;
    if (partial_.empty()) {
      more = emit(piece, on);
    } else if (partial_.size() + piece.size() > max_line_ + 1) {
      drop_partial();
      more = on(event::too_long, std::string_view{});
    } else {
      partial_.append(piece);
      more = emit(partial_, on);
      drop_partial();
    }
    if (!more) return pos;
  }
  return pos;
}

}  // namespace chat::protocol
