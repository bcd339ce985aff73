#include "client/line_buffer.hpp"

#include <cassert>
#include <string_view>

namespace chat::client {

line_buffer::line_buffer(std::size_t max_line, std::size_t read_size)
    : framer_(max_line), bytes_(read_size) {}

std::optional<line_buffer::line> line_buffer::next() {
  std::optional<line> found;
  const std::string_view pending(bytes_.data() + begin_, end_ - begin_);
  begin_ += framer_.feed(pending, [&](protocol::line_framer::event what, std::string_view text) {
    if (what == protocol::line_framer::event::too_long) {
      found.emplace(line{{}, true});
    } else {
      found.emplace(line{std::string(text), false});
    }
    return false;  // one line per call
  });
  if (begin_ == end_) begin_ = end_ = 0;
  return found;
}

void line_buffer::commit(std::size_t count) noexcept {
  assert(begin_ == 0 && end_ == 0 && count <= bytes_.size());
  end_ = count;
}

void line_buffer::commit_end_of_stream() {
  assert(begin_ == 0 && end_ == 0 && !bytes_.empty());
  if (!framer_.has_partial()) return;
  bytes_[0] = '\n';
  end_ = 1;
}

}  // namespace chat::client
