#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace chat::server {

// Something with a deadline: its place in the queue is kept by the queue.
class deadline_holder {
public:
  // The deadline passed; the holder is out of the queue (and may enter again).
  virtual void deadline_reached() = 0;

protected:
  virtual ~deadline_holder() = default;

private:
  friend class deadline_queue;
  static constexpr std::size_t unqueued = static_cast<std::size_t>(-1);
  std::size_t queue_index_ = unqueued;
};

// The deadlines of every session of one io_context, on one timer. A session
// with its own steady_timer pays for the timer (about 80 bytes) and for its
// pending wait (a 120-byte operation) for its whole life, idle or not; here
// a deadline costs a 16-byte heap entry. One per io_context, as an Asio
// service: the io_context's thread alone touches it (each session's strand
// runs on its io_context, which one thread runs).
class deadline_queue : public boost::asio::execution_context::service {
public:
  using clock = std::chrono::steady_clock;
  using key_type = deadline_queue;
  static inline boost::asio::execution_context::id id;

  explicit deadline_queue(boost::asio::io_context& context);

  // Sets (or moves) `holder`'s deadline.
  void schedule(deadline_holder& holder, clock::time_point when);
  // Takes `holder` out, if it is in.
  void cancel(deadline_holder& holder) noexcept;

private:
  struct entry {
    clock::time_point when;
    deadline_holder* holder;
  };

  void shutdown() override;
  void place(std::size_t index, entry e) noexcept;
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;
  void remove_at(std::size_t index) noexcept;
  // Arms the timer for the earliest deadline, if it is not armed for it.
  void arm();
  void fire();

  boost::asio::steady_timer timer_;
  // A min-heap on `when`; each holder knows its index.
  std::vector<entry> heap_;
  // When the timer is armed for; max() when it is not.
  clock::time_point armed_for_ = clock::time_point::max();
  bool shut_down_ = false;
};

}  // namespace chat::server
