#include "server/outbox.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chat::server {

outbox::outbox(const boost::asio::any_io_executor& executor) : doorbell_(executor, 1) {}

void outbox::push(frame f) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = queued_.empty();
    queued_.push_back(std::move(f));
  }
  // Fails harmlessly when a ring is already pending: one is enough.
  if (was_empty) doorbell_.try_send(boost::system::error_code{});
}

void outbox::take_all(std::vector<frame>& into) {
  std::lock_guard lock(mutex_);
  if (into.empty()) {
    // The two vectors trade buffers, so neither side allocates in steady state.
    into.swap(queued_);
  } else {
    into.insert(into.end(), std::make_move_iterator(queued_.begin()),
                std::make_move_iterator(queued_.end()));
    queued_.clear();
  }
}

void outbox::discard_all() {
  std::lock_guard lock(mutex_);
  queued_.clear();
}

boost::asio::awaitable<bool> outbox::wait() {
  auto [ec] = co_await doorbell_.async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return !ec;
}

void outbox::close() { doorbell_.close(); }

}  // namespace chat::server
