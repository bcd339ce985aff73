#include "store/detail/append_queue.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace chat::store::detail {

append_queue::append_queue(std::size_t max_queued, std::size_t max_batch,
                           std::chrono::milliseconds batch_interval)
    : max_queued_(std::max<std::size_t>(max_queued, 1)),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      batch_interval_(batch_interval) {}

void append_queue::push(stored_message message) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (queued_.size() >= max_queued_) {
      queued_.pop_front();
      ++dropped_;
    }
    highest_id_ = std::max(highest_id_, message.id);
    queued_.push_back(std::move(message));
    ++pushed_;
    // Only the transitions the writer waits for: it is idle until the queue
    // is non-empty, then lingers until a batch is full.
    wake = queued_.size() == 1 || queued_.size() == max_batch_;
  }
  if (wake) work_ready_.notify_one();
}

std::optional<append_queue::batch> append_queue::take() {
  std::unique_lock lock(mutex_);
  work_ready_.wait(lock, [&] { return !queued_.empty() || closed_; });
  if (queued_.empty()) return std::nullopt;

  const auto batch_ready = [&] {
    return closed_ || queued_.size() >= max_batch_ || flush_target_ > finished_through_;
  };
  // Fewer, larger transactions: a commit costs far more than a row.
  if (!batch_ready()) work_ready_.wait_for(lock, batch_interval_, batch_ready);

  if (queued_.size() <= max_batch_) {
    writing_.swap(queued_);
  } else {
    const auto end = queued_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
    writing_.assign(std::make_move_iterator(queued_.begin()), std::make_move_iterator(end));
    queued_.erase(queued_.begin(), end);
  }
  // Whatever was dropped is older than what is left, so it is finished with this batch.
  writing_through_ = pushed_ - queued_.size();
  return batch{writing_, std::exchange(dropped_, 0), closed_};
}

void append_queue::finish() {
  std::deque<stored_message> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(writing_);
    finished_through_ = writing_through_;
  }
  batch_finished_.notify_all();
  // `done` frees its strings here, outside the lock appenders need.
}

std::uint64_t append_queue::discard() {
  std::deque<stored_message> gone;
  std::uint64_t count = 0;
  {
    std::lock_guard lock(mutex_);
    gone.swap(queued_);
    count = gone.size() + std::exchange(dropped_, 0);
    // Called between batches, so nothing older is still being written.
    finished_through_ = pushed_;
  }
  batch_finished_.notify_all();
  return count;
}

void append_queue::wait_finished() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = pushed_;
  if (finished_through_ >= target) return;
  flush_target_ = std::max(flush_target_, target);
  work_ready_.notify_one();
  batch_finished_.wait(lock, [&] { return finished_through_ >= target; });
}

void append_queue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  work_ready_.notify_one();
}

std::vector<stored_message> append_queue::unwritten(std::string_view room, std::uint64_t before,
                                                    std::size_t limit) const {
  std::vector<const stored_message*> found;
  std::lock_guard lock(mutex_);
  for (const auto* messages : {&writing_, &queued_}) {
    for (const stored_message& m : *messages) {
      if (m.room == room && (before == 0 || m.id < before)) found.push_back(&m);
    }
  }
  // Appenders may race each other, so push order need not be id order.
  const auto keep = std::min(limit, found.size());
  std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(keep), found.end(),
                    [](const stored_message* a, const stored_message* b) { return a->id > b->id; });
  std::vector<stored_message> copies;
  copies.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i) copies.push_back(*found[i]);
  return copies;
}

std::uint64_t append_queue::highest_id() const {
  std::lock_guard lock(mutex_);
  return highest_id_;
}

}  // namespace chat::store::detail
