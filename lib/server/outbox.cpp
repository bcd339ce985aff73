#include "server/outbox.hpp"

#include <mutex>

namespace chat::server {

outbox::push_result outbox::push(frame f, std::size_t limit) {
  const std::size_t size = f->size();
  std::lock_guard guard(lock_);
  if (unwritten_bytes_ + size > limit) return push_result::over_limit;
  return queue(std::move(f), size) ? push_result::queued_first : push_result::queued;
}

bool outbox::push(frame f) {
  const std::size_t size = f ? f->size() : 0;
  std::lock_guard guard(lock_);
  return queue(std::move(f), size);
}

bool outbox::queue(frame f, std::size_t size) {
  unwritten_bytes_ += size;
  const bool was_empty = queued_.empty();
  queued_.push_back(std::move(f));
  return was_empty;
}

void outbox::written(std::size_t bytes) {
  std::lock_guard guard(lock_);
  unwritten_bytes_ -= bytes;
}

void outbox::take_all(std::vector<frame>& into) {
  std::lock_guard guard(lock_);
  if (into.empty()) {
    // The two vectors trade buffers, so neither side allocates in steady state
    // (the writer frees a buffer grown by a large burst, see session.cpp).
    into.swap(queued_);
  } else {
    into.insert(into.end(), std::make_move_iterator(queued_.begin()),
                std::make_move_iterator(queued_.end()));
    queued_.clear();
  }
}

void outbox::discard_all() {
  std::vector<frame> dropped;
  {
    std::lock_guard guard(lock_);
    dropped.swap(queued_);
  }
  // The frames are released here, outside the lock pushers spin on.
}

}  // namespace chat::server
