#include "store/detail/append_queue.hpp"

#include <algorithm>
#include <utility>

namespace chat::store::detail {

namespace {

// Spare buffers kept for reuse: enough for a queue that refills while a batch
// is written, without holding on to a burst's worth for ever.
constexpr std::size_t max_spare_buffers = 4;

}  // namespace

append_queue::append_queue(std::size_t max_queued, std::size_t max_batch,
                           std::chrono::milliseconds batch_interval)
    : max_queued_(std::max<std::size_t>(max_queued, 1)),
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

void append_queue::drop_oldest() {
  packed_messages& oldest = queued_.front();
  oldest.start = read_routed(oldest.bytes, oldest.start).end;
  --oldest.count;
  --queued_count_;
  ++dropped_;
  if (oldest.count == 0) {
    if (spare_.size() < max_spare_buffers) spare_.push_back(std::move(oldest.bytes));
    queued_.pop_front();
  }
}

void append_queue::push(const stored_message_view& message) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (queued_count_ >= max_queued_) drop_oldest();
    if (queued_.empty() || queued_.back().count == max_batch_) queued_.push_back(fresh_batch());
    packed_messages& filling = queued_.back();
    append_routed(filling.bytes, message);
    ++filling.count;
    ++queued_count_;
    highest_id_ = std::max(highest_id_, message.id);
    ++pushed_;
    // Only the transitions the writer waits for: it is idle until the queue
    // is non-empty, then lingers until a batch is full.
    wake = queued_count_ == 1 || filling.count == max_batch_;
  }
  if (wake) work_ready_.notify_one();
}

std::optional<append_queue::batch> append_queue::take() {
  std::unique_lock lock(mutex_);
  work_ready_.wait(lock, [&] { return queued_count_ != 0 || closed_; });
  if (queued_count_ == 0) return std::nullopt;

  const auto batch_ready = [&] {
    return closed_ || queued_.front().count >= max_batch_ || flush_target_ > finished_through_;
  };
  // Fewer, larger transactions: a commit costs far more than a row.
  if (!batch_ready()) work_ready_.wait_for(lock, batch_interval_, batch_ready);

  writing_ = std::move(queued_.front());
  queued_.pop_front();
  queued_count_ -= writing_.count;
  // Whatever was dropped is older than what is left, so it is finished with this batch.
  writing_through_ = pushed_ - queued_count_;
  return batch{writing_, std::exchange(dropped_, 0), closed_};
}

void append_queue::finish() {
  {
    std::lock_guard lock(mutex_);
    if (spare_.size() < max_spare_buffers) spare_.push_back(std::move(writing_.bytes));
    writing_ = {};
    finished_through_ = writing_through_;
  }
  batch_finished_.notify_all();
}

std::uint64_t append_queue::discard() {
  std::deque<packed_messages> gone;
  std::uint64_t count = 0;
  {
    std::lock_guard lock(mutex_);
    gone.swap(queued_);
    count = queued_count_ + std::exchange(dropped_, 0);
    queued_count_ = 0;
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
  std::vector<routed_record> found;
  std::lock_guard lock(mutex_);
  const auto collect = [&](const routed_record& record) {
    if (record.room == room && (before == 0 || record.id < before)) found.push_back(record);
  };
  writing_.for_each(collect);
  for (const packed_messages& waiting : queued_) waiting.for_each(collect);
  // Appenders may race each other, so push order need not be id order.
  const auto keep = std::min(limit, found.size());
  std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(keep), found.end(),
                    [](const routed_record& a, const routed_record& b) { return a.id > b.id; });
  std::vector<stored_message> copies;
  copies.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i) copies.push_back(unpack_routed(found[i]));
  return copies;
}

std::uint64_t append_queue::highest_id() const {
  std::lock_guard lock(mutex_);
  return highest_id_;
}

}  // namespace chat::store::detail
