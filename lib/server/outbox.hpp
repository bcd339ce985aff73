#pragma once

#include <cstddef>
#include <vector>

#include "server/member.hpp"
#include "server/spin_lock.hpp"

namespace chat::server {

// The frames waiting for one client's writer: many producers (every session
// broadcasting to it), one consumer (its writer).
//
// A push is a pointer appended under a short lock; the writer takes the whole
// queue in one swap. Only a push that finds the queue empty tells its caller
// to wake the writer, so a burst of frames costs one wake-up. How to wake it
// is the owner's business: the outbox holds no executor and no channel, so an
// idle one costs a lock flag and an empty vector.
//
// It also counts the bytes queued or taken and not yet written, under the
// same lock, so that the bound on a slow consumer costs a delivery no atomic
// instruction of its own.
class outbox {
public:
  enum class push_result {
    queued,
    // The queue was empty: the caller must wake the writer.
    queued_first,
    // Not queued: it would have put more than the limit unwritten.
    over_limit,
  };

  // Queues `f` unless that would leave more than `limit` bytes unwritten.
  // Thread-safe.
  [[nodiscard]] push_result push(frame f, std::size_t limit);

  // Queues `f` whatever the bound (notices, the end of the stream: a null
  // frame). Thread-safe. Returns true when the queue was empty: the caller
  // must wake the writer.
  [[nodiscard]] bool push(frame f);

  // Moves everything queued onto the end of `into`. Writer only.
  void take_all(std::vector<frame>& into);

  // The writer has written `bytes` of the frames it took.
  void written(std::size_t bytes);

  // Drops everything queued. Writer's strand only.
  void discard_all();

private:
  // Under lock_: appends `f`, returns whether the queue was empty.
  bool queue(frame f, std::size_t size);

  spin_lock lock_;
  std::vector<frame> queued_;
  // Queued, or taken by the writer and not yet written: what a slow
  // consumer is bounded by. Not lowered by discard_all(), which only a
  // session that takes no more frames calls.
  std::size_t unwritten_bytes_ = 0;
};

}  // namespace chat::server
