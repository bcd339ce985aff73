#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/line_framer.hpp"

namespace chat::client {

// Holds the bytes of one read and hands out the lines in them one at a time,
// so a reader can return a line and keep the rest for its next call. The
// socket and the stdin readers both sit on top of it.
class line_buffer {
public:
  struct line {
    std::string text;  // without LF (and without a CR before it)
    // The line was longer than max_line; its bytes were dropped and text is empty.
    bool too_long = false;
  };

  line_buffer(std::size_t max_line, std::size_t read_size);

  // The next line from the bytes committed so far, if a whole one is there.
  // Once it returns nullopt every committed byte has been taken in.
  std::optional<line> next();

  // Where the next read goes; call only after next() returned nullopt.
  std::span<char> space() noexcept { return bytes_; }
  void commit(std::size_t count) noexcept;

  // The stream ended: an unterminated last line still counts as a line.
  // Call only after next() returned nullopt.
  void commit_end_of_stream();

  std::size_t max_line() const noexcept { return framer_.max_line(); }

private:
  protocol::line_framer framer_;
  std::vector<char> bytes_;
  // The committed bytes not yet fed to the framer: [begin_, end_).
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace chat::client
