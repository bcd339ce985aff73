#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include "server/member.hpp"

namespace chat::server {

// The frames waiting for one client's writer: many producers (every session
// broadcasting to it), one consumer (its writer).
//
// A push is a pointer appended under a short lock; the writer takes the whole
// queue in one swap. The writer is woken through a one-slot channel only when
// the queue goes from empty to non-empty, so a burst of frames costs one
// wake-up, and no push allocates once the vectors have grown.
class outbox {
public:
  explicit outbox(const boost::asio::any_io_executor& executor);

  // Queues `f`; a null frame marks the end of the stream. Thread-safe.
  void push(frame f);

  // Moves everything queued onto the end of `into`. Writer only.
  void take_all(std::vector<frame>& into);

  // Drops everything queued. Writer's strand only.
  void discard_all();

  // Waits until something may have been queued. Returns false once closed.
  boost::asio::awaitable<bool> wait();

  // Wakes the writer for good: wait() returns false from now on.
  void close();

private:
  using doorbell = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;

  std::mutex mutex_;
  std::vector<frame> queued_;
  doorbell doorbell_;
};

}  // namespace chat::server
