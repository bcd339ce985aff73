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
class outbox {
public:
  // Queues `f`; a null frame marks the end of the stream. Thread-safe.
  // Returns true when the queue was empty: the caller must wake the writer.
  [[nodiscard]] bool push(frame f);

  // Moves everything queued onto the end of `into`. Writer only.
  void take_all(std::vector<frame>& into);

  // Drops everything queued. Writer's strand only.
  void discard_all();

private:
  spin_lock lock_;
  std::vector<frame> queued_;
};

}  // namespace chat::server
