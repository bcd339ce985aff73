#include "server/deadline_queue.hpp"

#include <utility>

namespace chat::server {

deadline_queue::deadline_queue(boost::asio::io_context& context)
    : boost::asio::execution_context::service(context), timer_(context) {}

void deadline_queue::shutdown() {
  shut_down_ = true;
  timer_.cancel();
  for (const entry& e : heap_) e.holder->queue_index_ = deadline_holder::unqueued;
  heap_.clear();
}

void deadline_queue::schedule(deadline_holder& holder, clock::time_point when) {
  if (shut_down_) return;
  if (holder.queue_index_ == deadline_holder::unqueued) {
    heap_.push_back({when, &holder});
    holder.queue_index_ = heap_.size() - 1;
    sift_up(holder.queue_index_);
  } else {
    const std::size_t index = holder.queue_index_;
    const bool earlier = when < heap_[index].when;
    heap_[index].when = when;
    earlier ? sift_up(index) : sift_down(index);
  }
  arm();
}

void deadline_queue::cancel(deadline_holder& holder) noexcept {
  if (holder.queue_index_ != deadline_holder::unqueued) remove_at(holder.queue_index_);
}

void deadline_queue::place(std::size_t index, entry e) noexcept {
  heap_[index] = e;
  e.holder->queue_index_ = index;
}

void deadline_queue::sift_up(std::size_t index) noexcept {
  const entry moving = heap_[index];
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!(moving.when < heap_[parent].when)) break;
    place(index, heap_[parent]);
    index = parent;
  }
  place(index, moving);
}

void deadline_queue::sift_down(std::size_t index) noexcept {
  const entry moving = heap_[index];
  for (;;) {
    std::size_t child = 2 * index + 1;
    if (child >= heap_.size()) break;
    if (child + 1 < heap_.size() && heap_[child + 1].when < heap_[child].when) ++child;
    if (!(heap_[child].when < moving.when)) break;
    place(index, heap_[child]);
    index = child;
  }
  place(index, moving);
}

void deadline_queue::remove_at(std::size_t index) noexcept {
  heap_[index].holder->queue_index_ = deadline_holder::unqueued;
  const entry last = heap_.back();
  heap_.pop_back();
  if (heap_.empty()) {
    // A pending wait is work: io_context::run() would not return while the
    // timer waits for a deadline nobody holds any more.
    armed_for_ = clock::time_point::max();
    timer_.cancel();
    return;
  }
  if (index == heap_.size()) return;
  place(index, last);
  sift_up(index);
  sift_down(last.holder->queue_index_);
}

void deadline_queue::arm() {
  if (heap_.empty() || heap_.front().when >= armed_for_) return;
  armed_for_ = heap_.front().when;
  timer_.expires_at(armed_for_);
  // Cancelling an armed wait completes it with operation_aborted; the new
  // wait below then owns the timer.
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    armed_for_ = clock::time_point::max();
    fire();
  });
}

void deadline_queue::fire() {
  const clock::time_point now = clock::now();
  // A holder may schedule itself again, or others, from deadline_reached().
  while (!heap_.empty() && heap_.front().when <= now) {
    deadline_holder* due = heap_.front().holder;
    remove_at(0);
    due->deadline_reached();
  }
  arm();
}

}  // namespace chat::server
