#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace chat::server {

namespace metrics {
// A timed frame's last holder let it go `nanoseconds` after it was made
// (server/metrics.cpp).
void timed_frame_released(std::int64_t nanoseconds) noexcept;
}  // namespace metrics

// One encoded frame, shared by every recipient: a broadcast is serialised
// once per wire form and never copied per client. The frame counts its own
// holders, so that a broadcast can give each of its recipients a handle for
// one atomic add in all (frame_copies), where std::shared_ptr costs a locked
// instruction per recipient once the process has a second thread.
class frame {
public:
  frame() noexcept = default;
  // `message_id`: the id of the message the frame carries, 0 for other frames.
  explicit frame(std::string bytes, std::uint64_t message_id = 0)
      : body_(new body{{1}, message_id, std::move(bytes)}) {}

  frame(const frame& other) noexcept : body_(other.body_) {
    if (body_ != nullptr) body_->holders.fetch_add(1, std::memory_order_relaxed);
  }
  frame(frame&& other) noexcept : body_(std::exchange(other.body_, nullptr)) {}
  frame& operator=(frame other) noexcept {
    std::swap(body_, other.body_);
    return *this;
  }
  ~frame() { release(body_, 1); }

  explicit operator bool() const noexcept { return body_ != nullptr; }
  const std::string& operator*() const noexcept { return body_->bytes; }
  const std::string* operator->() const noexcept { return &body_->bytes; }
  // What a client that was sent this frame has seen: the resume point.
  std::uint64_t message_id() const noexcept { return body_->message_id; }
  // Makes the frame a sample of delivery latency: when its last holder lets
  // it go (its last recipient has written it, or dropped it), the time since
  // now is recorded. Before the frame is shared.
  void time_delivery() noexcept { body_->timed_since_ns = now_ns(); }
  friend bool operator==(const frame& f, std::nullptr_t) noexcept { return f.body_ == nullptr; }

private:
  friend class frame_copies;

  struct body {
    std::atomic<std::size_t> holders;
    std::uint64_t message_id;
    std::string bytes;
    std::int64_t timed_since_ns = 0;  // 0: not a sample
  };

  static std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // Takes over one of the holds already counted.
  explicit frame(body* counted) noexcept : body_(counted) {}

  // `holds` must be at least 1: with none left the body may already be gone.
  static void release(body* b, std::size_t holds) noexcept {
    assert(holds >= 1);
    if (b == nullptr || b->holders.fetch_sub(holds, std::memory_order_acq_rel) != holds) return;
    if (b->timed_since_ns != 0) metrics::timed_frame_released(now_ns() - b->timed_since_ns);
    delete b;
  }

  body* body_ = nullptr;
};

// Up to `count` handles of one frame, counted in one update when made; those
// not handed out are given back when it goes.
class frame_copies {
public:
  // `count` must be at least 1.
  frame_copies(frame f, std::size_t count) noexcept
      : body_(std::exchange(f.body_, nullptr)), left_(count) {
    assert(body_ != nullptr && count >= 1);
    if (count > 1) body_->holders.fetch_add(count - 1, std::memory_order_relaxed);
  }
  ~frame_copies() {
    // Once every handle is out, the handles alone keep the body, and may have let it go.
    if (left_ != 0) frame::release(body_, left_);
  }

  frame_copies(const frame_copies&) = delete;
  frame_copies& operator=(const frame_copies&) = delete;

  // At most `count` times.
  frame next() noexcept {
    assert(left_ > 0);
    --left_;
    return frame(body_);
  }

private:
  frame::body* body_;
  // Holds counted and not handed out yet.
  std::size_t left_;
};

inline frame make_frame(std::string bytes, std::uint64_t message_id = 0) {
  return frame(std::move(bytes), message_id);
}

}  // namespace chat::server
