#pragma once

#include <atomic>
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
  std::size_t count = 0;
  // The highest id packed: with ids appended in increasing order, every id
  // up to it is settled once this batch is.
  std::uint64_t highest_id = 0;

  // Calls `visit(routed_record)` for each message, oldest first.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t at = 0; at < bytes.size();) {
      const routed_record record = read_routed(bytes, at);
      visit(record);
      at = record.end;
    }
  }
};

// The hand-off between the threads that append messages and the one thread
// that writes them. Appending never waits for the writer, never drops and,
// once the buffers have grown, never allocates: it is one copy under a short
// lock. Past `max_backlog_bytes` of unwritten messages the queue says it is
// backlogged, so that the producer holds back (it is bounded upstream); it
// says so until the backlog is below half of that. The writer takes batches;
// until it says a batch is finished, the batch stays visible to unwritten(),
// so a reader never misses a message that is half-way to disk.
class append_queue {
public:
  append_queue(std::size_t max_backlog_bytes, std::size_t max_batch,
               std::chrono::milliseconds batch_interval);

  append_queue(const append_queue&) = delete;
  append_queue& operator=(const append_queue&) = delete;

  void push(const stored_message_view& message);

  struct batch {
    // Valid and unchanged until finish(). Empty when take() waited out its
    // idle limit with nothing queued.
    const packed_messages& messages;
    // The queue was closed: this is part of the final drain.
    bool closing;
  };

  // Writer: waits up to `idle_limit` for messages, then gives the
  // batch_interval to fill up unless the batch is full, someone flushes or
  // the queue is closed. Returns nothing once the queue is closed and empty.
  std::optional<batch> take(
      std::chrono::milliseconds idle_limit = std::chrono::milliseconds::max());

  // Writer: the batch taken last is out of the backlog (committed or given
  // up on). Returns whether the queue is still backlogged. finish() follows.
  bool settle();

  // Writer: the batch taken last is done with; flushers waiting for it return.
  void finish();

  // Writer, between batches: gives up on everything still queued (used when
  // writes fail while closing, so shutdown does not wait out a dead disk).
  // Returns how many messages were lost and the highest id among them.
  struct discarded {
    std::uint64_t count = 0;
    std::uint64_t highest_id = 0;
  };
  discarded discard();

  // Returns once every message pushed before the call is finished.
  void wait_finished();

  // take() drains what is left, then reports the end.
  void close();

  // Copies of the messages of `room` with an id below `before` (0: any) that
  // are queued or being written, the `limit` highest ids, in no order.
  std::vector<stored_message> unwritten(std::string_view room, std::uint64_t before,
                                        std::size_t limit) const;

  // Copies of the messages of `room` with an id in (after, through] that
  // are queued or being written, the `limit` lowest ids, in no order.
  std::vector<stored_message> unwritten_after(std::string_view room, std::uint64_t after,
                                              std::uint64_t through, std::size_t limit) const;

  // The highest id pushed so far (0 when none).
  std::uint64_t highest_id() const;

  // Lock-free: the hub asks on every message.
  bool backlogged() const noexcept { return backlogged_.load(std::memory_order_relaxed); }

  // Messages queued and not yet taken (the writer's batch is not counted).
  std::size_t queued() const;
  // Bytes pushed and not yet settled, the batch being written included.
  std::size_t backlog_bytes() const;

private:
  // An empty batch, reusing a finished one's buffer when there is one.
  packed_messages fresh_batch();
  template <class Keep>
  std::vector<stored_message> copy_matching(std::string_view room, std::size_t limit, Keep&& keep,
                                            bool highest) const;

  const std::size_t max_backlog_bytes_;
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

  // Bytes pushed and not yet settled, the batch being written included.
  std::size_t backlog_bytes_ = 0;
  std::atomic<bool> backlogged_{false};

  // Sequence numbers count pushes: message n is the n-th pushed. Everything
  // up to finished_through_ is written or given up on.
  std::uint64_t pushed_ = 0;
  std::uint64_t writing_through_ = 0;
  std::uint64_t finished_through_ = 0;
  // The highest sequence number a flusher waits for; ends the fill wait early.
  std::uint64_t flush_target_ = 0;

  std::uint64_t highest_id_ = 0;
  bool closed_ = false;
};

}  // namespace chat::store::detail
