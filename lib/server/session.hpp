#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/conversation.hpp"
#include "server/deadline_queue.hpp"
#include "server/metrics.hpp"
#include "server/outbox.hpp"
#include "transport/stream.hpp"

namespace boost::system {
class error_code;
}

namespace chat::server {

class session_registry;
struct commit_news;

// What every session does whatever its transport: the outbox as the channel
// from any broadcasting session to this one's writer, the writer's wait on
// it, the frames taken and not yet written, the deadline, and how a
// session ends. stream_session.hpp adds the transport and the two coroutines.
//
// Everything but deliver() and shutdown() runs on the session's strand.
class session : public conversation, private deadline_holder {
public:
  using executor_type = transport::executor_type;
  // The token of every wait: coroutines of the concrete executor type, so
  // that no wait copies an any_io_executor.
  using awaitable_token = boost::asio::use_awaitable_t<executor_type>;
  template <class T = void>
  using awaitable = boost::asio::awaitable<T, executor_type>;

  // Starts the reader and the writer.
  virtual void start() = 0;

  void deliver(frame f) final;
  void shutdown() final;
  void warn_of_shutdown() final;
  void displaced() final;

  // From this session's commit_watch: returns whether it still waits.
  bool commit_settled(const commit_news& news);

protected:
  session(executor_type strand, hub& hub, session_registry& registry, const config& cfg,
          accounts::account_service* accounts);
  ~session() override;

  // One coroutine's wait for a wake-up from elsewhere: a ring that comes
  // while the coroutine is busy makes its next wait complete at once.
  class doorbell {
    using resume_handler = boost::asio::async_result<awaitable_token, void()>::handler_type;

  public:
    // Completes once rung (maybe before the call), or at once when `stopped`.
    auto wait(const executor_type& strand, bool stopped) {
      awaitable_token token;
      return boost::asio::async_initiate<awaitable_token, void()>(
          [this, &strand, stopped](auto resume) {
            if (rung_ || stopped) {
              rung_ = false;
              boost::asio::post(strand, std::move(resume));
            } else {
              waiting_.emplace(std::move(resume));
            }
          },
          token);
    }
    // On the strand, from a handler of its own (never from inside the
    // coroutine): the waiting coroutine resumes right here.
    void ring();

  private:
    std::optional<resume_handler> waiting_;
    bool rung_ = false;
  };

  // The writer's side of the channel: completes once something was queued
  // into an empty outbox, or the session stopped. At most one at a time.
  auto wait_for_frames() { return writer_bell_.wait(strand_, stopped_); }
  // The reader's wait while input_paused(): completes once the history
  // writer caught up or a password was checked, or the session stopped.
  auto wait_for_input_resumed() { return reader_bell_.wait(strand_, stopped_); }
  // Moves what is queued into unwritten_, up to an end marker; false when
  // nothing was queued.
  bool take_queued();
  // The transport took `bytes` of unwritten_.
  void consume_written(std::size_t bytes);

  // The reader's bookkeeping around conversation::on_input: input not
  // handled when a turn ends is kept in backlog_.
  void handle_turn(std::string_view input);
  // A read failed: end of stream flushes and closes, an error stops.
  void end_reading(const boost::system::error_code& ec);
  // The stream is ready for the protocol (after the TLS handshake).
  void establish();
  // Puts next_deadline() in its thread's deadline_queue; when it comes, the
  // deadlines are looked at and the next one is set. Before establish() the
  // only deadline is the handshake's, and its end stops the session.
  void arm_deadline();

  bool reading() const noexcept { return !closing() && !stopped_; }

  void close_after_flush() final;
  void stop() final;
  void deadlines_changed() final;
  void watch_commits() final;
  void resume_input() final;
  void run_in_session(std::function<void()> job) final;
  // The transport's part of stop(): close, so that every wait ends.
  virtual void close_transport() noexcept = 0;

  // The co_spawn completion of the reader and the writer: an exception ends
  // the session (logged) instead of escaping io_context::run().
  void finished(const char* role, std::exception_ptr error) noexcept;

  const executor_type strand_;
  // Which transport the connection is, for /metrics (stream_session sets it).
  metrics::transport transport_kind_ = metrics::transport::tcp;
  // Input read but not yet handled when a turn ended; empty nearly always.
  std::string backlog_;
  // Frames taken from the outbox and not yet fully written, and how much of
  // the first one is already out. Writer only.
  std::vector<frame> unwritten_;
  std::size_t written_of_first_ = 0;
  // The end marker was taken: nothing after it is written.
  bool end_of_stream_ = false;
  // The transport carries the protocol: before that (a TLS handshake) there
  // is nothing to flush, and a close is immediate.
  bool established_ = false;
  // The shutdown notice went out (warn_of_shutdown): shutdown() does not
  // send it again.
  bool warned_of_shutdown_ = false;
  bool stopped_ = false;

private:
  // A push found the outbox empty: resume the writer (on its strand).
  void wake_writer();
  // Posts the writers gathered by wake_writer() to their threads.
  static void hand_over_remote_wakes();
  // Queues past the byte bound and the seal: for the last words of a session
  // (a final error, the shutdown notice) and the end-of-stream marker (null).
  void push(frame f);
  void drop_as_slow_consumer();
  void deadline_reached() override;
  boost::asio::io_context& home();

  session_registry& registry_;
  outbox outbox_;
  doorbell writer_bell_;
  doorbell reader_bell_;
  // The id of the last message frame written out: where a dropped client resumes.
  std::uint64_t last_written_id_ = 0;
  // This session's thread's deadlines (deadline_queue.hpp says why not a timer each).
  deadline_queue& deadlines_;
  // The size of the batch being written: a frame vector grown by a burst is
  // freed once batches are much smaller again.
  std::size_t batch_size_ = 0;
  // Set once the outbox takes no more ordinary frames (closing, or dropped).
  std::atomic<bool> sealed_{false};
};

}  // namespace chat::server
