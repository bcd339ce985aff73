#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/detail/chunk.hpp"
#include "store/stored_message.hpp"

namespace chat::store::detail {

// Messages packed back to back as routed records (chunk.hpp): a batch costs
// a buffer, not an allocation per message.
struct packed_messages {
  std::string bytes;
  // Where the oldest message still held begins: dropping the oldest only
  // moves it.
  std::size_t start = 0;
  std::size_t count = 0;

  // Calls `visit(routed_record)` for each message, oldest first.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t at = start; at < bytes.size();) {
      const routed_record record = read_routed(bytes, at);
      visit(record);
      at = record.end;
    }
  }
};

// The hand-off between the threads that append messages and the one thread
// that writes them. Appending never waits for the writer and, once the
// buffers have grown, never allocates: it is one copy under a short lock.
// The queue is bounded in messages and drops its oldest past the bound. The
// writer takes batches; until it says a batch is finished, the batch stays
// visible to unwritten(), so a reader never misses a message that is
// half-way to disk.
class append_queue {
public:
  append_queue(std::size_t max_queued, std::size_t max_batch,
               std::chrono::milliseconds batch_interval);

  append_queue(const append_queue&) = delete;
  append_queue& operator=(const append_queue&) = delete;

  void push(const stored_message_view& message);

  struct batch {
    // Valid and unchanged until finish().
    const packed_messages& messages;
    // Messages dropped because the queue was full since the previous batch.
    std::uint64_t dropped;
    // The queue was closed: this is part of the final drain.
    bool closing;
  };

  // Writer: waits for messages, then gives the batch_interval to fill up
  // unless the batch is full, someone flushes or the queue is closed. Returns
  // nothing once the queue is closed and empty.
  std::optional<batch> take();

  // Writer: the batch taken last is committed or given up on.
  void finish();

  // Writer, between batches: gives up on everything still queued (used when
  // writes fail while closing, so shutdown does not wait out a dead disk).
  // Returns how many messages were lost, counting those dropped unreported.
  std::uint64_t discard();

  // Returns once every message pushed before the call is finished.
  void wait_finished();

  // take() drains what is left, then reports the end.
  void close();

  // Copies of the messages of `room` with an id below `before` (0: any) that
  // are queued or being written, the `limit` highest ids, in no order.
  std::vector<stored_message> unwritten(std::string_view room, std::uint64_t before,
                                        std::size_t limit) const;

  // The highest id pushed so far (0 when none).
  std::uint64_t highest_id() const;

private:
  void drop_oldest();
  // An empty batch, reusing a finished one's buffer when there is one.
  packed_messages fresh_batch();

  const std::size_t max_queued_;
  const std::size_t max_batch_;
  const std::chrono::milliseconds batch_interval_;

  mutable std::mutex mutex_;
  // Wakes the writer: messages arrived, a batch filled, a flush or close.
  std::condition_variable work_ready_;
  // Wakes flushers when a batch is finished.
  std::condition_variable batch_finished_;

  // Oldest first, each of at most max_batch_ messages; pushes fill the last.
  std::deque<packed_messages> queued_;
  std::size_t queued_count_ = 0;
  // The batch being written, kept here so that readers can still see it.
  packed_messages writing_;
  // Buffers of finished batches, kept for the next ones.
  std::vector<std::string> spare_;

  // Sequence numbers count pushes: message n is the n-th pushed. Everything
  // up to finished_through_ is written or given up on.
  std::uint64_t pushed_ = 0;
  std::uint64_t writing_through_ = 0;
  std::uint64_t finished_through_ = 0;
  // The highest sequence number a flusher waits for; ends the fill wait early.
  std::uint64_t flush_target_ = 0;

  std::uint64_t dropped_ = 0;
  std::uint64_t highest_id_ = 0;
  bool closed_ = false;
};

}  // namespace chat::store::detail
