#include "store/detail/append_queue.hpp"

#include <algorithm>
#include <utility>

namespace chat::store::detail {

namespace {

// Spare buffers kept for reuse: enough for a queue that refills while a batch
// is written, without holding on to a burst's worth for ever.
constexpr std::size_t max_spare_buffers = 4;

}  // namespace

append_queue::append_queue(std::size_t max_backlog_bytes, std::size_t max_batch,
                           std::chrono::milliseconds batch_interval)
    : max_backlog_bytes_(std::max<std::size_t>(max_backlog_bytes, 1)),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      batch_interval_(batch_interval) {}

packed_messages append_queue::fresh_batch() {
  packed_messages fresh;
  if (!spare_.empty()) {
    fresh.bytes = std::move(spare_.back());
    spare_.pop_back();
    fresh.bytes.clear();
  }
  return fresh;
}

void append_queue::push(const stored_message_view& message) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (queued_.empty() || queued_.back().count == max_batch_) queued_.push_back(fresh_batch());
    packed_messages& filling = queued_.back();
    const std::size_t size_before = filling.bytes.size();
    append_routed(filling.bytes, message);
    ++filling.count;
    filling.highest_id = std::max(filling.highest_id, message.id);
    ++queued_count_;
    backlog_bytes_ += filling.bytes.size() - size_before;
    if (backlog_bytes_ > max_backlog_bytes_) backlogged_.store(true, std::memory_order_relaxed);
    highest_id_ = std::max(highest_id_, message.id);
    ++pushed_;
    // Only the transitions the writer waits for: it is idle until the queue
    // is non-empty, then lingers until a batch is full.
    wake = queued_count_ == 1 || filling.count == max_batch_;
  }
  if (wake) work_ready_.notify_one();
}

std::optional<append_queue::batch> append_queue::take(std::chrono::milliseconds idle_limit) {
  std::unique_lock lock(mutex_);
  const auto has_work = [&] { return queued_count_ != 0 || closed_; };
  // A bound this far off would overflow the clock: it means no bound.
  if (idle_limit >= std::chrono::hours(24 * 365)) {
    work_ready_.wait(lock, has_work);
  } else if (!work_ready_.wait_for(lock, idle_limit, has_work)) {
    return batch{writing_, false};
  }
  if (queued_count_ == 0) return std::nullopt;

  const auto batch_ready = [&] {
    return closed_ || queued_.front().count >= max_batch_ || flush_target_ > finished_through_;
  };
  // Fewer, larger transactions: a commit costs far more than a row.
  if (!batch_ready()) work_ready_.wait_for(lock, batch_interval_, batch_ready);

  writing_ = std::move(queued_.front());
  queued_.pop_front();
  queued_count_ -= writing_.count;
  writing_through_ = pushed_ - queued_count_;
  return batch{writing_, closed_};
}

bool append_queue::settle() {
  std::lock_guard lock(mutex_);
  backlog_bytes_ -= std::min(backlog_bytes_, writing_.bytes.size());
  // Hysteresis: a producer held back at the bound resumes with room to spare,
  // not one message at a time.
  if (backlog_bytes_ < max_backlog_bytes_ / 2) backlogged_.store(false, std::memory_order_relaxed);
  return backlogged_.load(std::memory_order_relaxed);
}

void append_queue::finish() {
  {
    std::lock_guard lock(mutex_);
    if (spare_.size() < max_spare_buffers) spare_.push_back(std::move(writing_.bytes));
    writing_ = {};
    finished_through_ = std::max(finished_through_, writing_through_);
  }
  batch_finished_.notify_all();
}

append_queue::discarded append_queue::discard() {
  std::deque<packed_messages> gone;
  discarded lost;
  {
    std::lock_guard lock(mutex_);
    gone.swap(queued_);
    lost.count = queued_count_;
    queued_count_ = 0;
    for (const packed_messages& waiting : gone) {
      lost.highest_id = std::max(lost.highest_id, waiting.highest_id);
      backlog_bytes_ -= std::min(backlog_bytes_, waiting.bytes.size());
    }
    if (backlog_bytes_ < max_backlog_bytes_ / 2) {
      backlogged_.store(false, std::memory_order_relaxed);
    }
    // Called between batches, so nothing older is still being written.
    finished_through_ = pushed_;
  }
  batch_finished_.notify_all();
  return lost;
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

template <class Keep>
std::vector<stored_message> append_queue::copy_matching(std::string_view room, std::size_t limit,
                                                        Keep&& keep, bool highest) const {
  std::vector<routed_record> found;
  std::lock_guard lock(mutex_);
  const auto collect = [&](const routed_record& record) {
    if (record.room == room && keep(record.id)) found.push_back(record);
  };
  writing_.for_each(collect);
  for (const packed_messages& waiting : queued_) waiting.for_each(collect);
  // Appenders may race each other, so push order need not be id order.
  const auto kept = std::min(limit, found.size());
  const auto middle = found.begin() + static_cast<std::ptrdiff_t>(kept);
  if (highest) {
    std::partial_sort(found.begin(), middle, found.end(),
                      [](const routed_record& a, const routed_record& b) { return a.id > b.id; });
  } else {
    std::partial_sort(found.begin(), middle, found.end(),
                      [](const routed_record& a, const routed_record& b) { return a.id < b.id; });
  }
  std::vector<stored_message> copies;
  copies.reserve(kept);
  for (std::size_t i = 0; i < kept; ++i) copies.push_back(unpack_routed(found[i]));
  return copies;
}

std::vector<stored_message> append_queue::unwritten(std::string_view room, std::uint64_t before,
                                                    std::size_t limit) const {
  return copy_matching(
      room, limit, [&](std::uint64_t id) { return before == 0 || id < before; }, true);
}

std::vector<stored_message> append_queue::unwritten_after(std::string_view room,
                                                          std::uint64_t after,
                                                          std::uint64_t through,
                                                          std::size_t limit) const {
  return copy_matching(
      room, limit, [&](std::uint64_t id) { return id > after && id <= through; }, false);
}

std::uint64_t append_queue::highest_id() const {
  std::lock_guard lock(mutex_);
  return highest_id_;
}

std::size_t append_queue::queued() const {
  std::lock_guard lock(mutex_);
  return queued_count_;
}

std::size_t append_queue::backlog_bytes() const {
  std::lock_guard lock(mutex_);
  return backlog_bytes_;
}

}  // namespace chat::store::detail
