#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "protocol/line_framer.hpp"
#include "protocol/request.hpp"
#include "server/config.hpp"
#include "server/member.hpp"
#include "server/outbox.hpp"

namespace chat::server {

class hub;
class session_registry;

// One client connection: a reader that turns frames into hub calls, a writer
// that drains the outbox with gather writes, and a watchdog for deadlines,
// all on the socket's strand. Whichever ends first ends the others.
//
// The three are chains of completion handlers, not coroutines: an idle client
// then costs one pending read wait and one pending timer wait, with no
// coroutine frames, and the writer costs nothing at all until it has work.
// Every pending handler holds the session alive.
class session final : public member, public std::enable_shared_from_this<session> {
public:
  // A concrete strand, not any_io_executor: it fits in the small buffer of
  // any type-erased executor, so copying it (every wait does) never allocates.
  using executor_type = boost::asio::strand<boost::asio::io_context::executor_type>;
  using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor_type>;

  session(socket_type socket, hub& hub, session_registry& registry, const config& cfg);

  void start();

  // Thread-safe: tells the client the server is going down, flushes what is
  // queued and closes.
  void shutdown();

  void deliver(frame f) override;

private:
  using timer_type = boost::asio::basic_waitable_timer<
      std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>,
      executor_type>;

  // Runs one step of the reader, writer or watchdog: an exception ends this
  // session (logged) instead of escaping from io_context::run().
  template <class Step>
  void guarded(const char* role, Step&& step) noexcept;
  // A handler that runs `step` guarded, holding the session alive until then.
  auto guarded_handler(const char* role, void (session::*step)());
  // The io_context of the thread this session lives on.
  boost::asio::io_context& home();

  // Reader: handles one turn of input, then yields to the strand, or waits
  // for the socket to become readable.
  void read();
  void wait_readable();
  void end_reading(const boost::system::error_code& ec);
  // Writer: writes everything queued, waiting for writability as needed.
  // A push that finds the outbox empty wakes it (wake_writer).
  void wake_writer();
  // Posts the writers gathered by wake_writer() to their threads.
  static void hand_over_remote_wakes();
  void write();
  // Writes unwritten_ until it is empty or the kernel takes no more
  // (would_block); any other error ends the session.
  boost::system::error_code write_unwritten();
  // Watchdog: waits for next_deadline(), then checks.
  void arm_watchdog();

  // Handles the lines of `input` until the turn is used up; returns the
  // bytes consumed.
  std::size_t process_turn(std::string_view input);
  // Handles one complete line; false once the session should read no more.
  bool on_line(protocol::line_framer::event event, std::string_view line);
  void on_handshake(std::string_view line);
  // One handler per request (session_requests.cpp); false once the session
  // should read no more.
  bool handle(protocol::request::message& request);
  bool handle(protocol::request::direct& request);
  bool handle(protocol::request::join& request);
  bool handle(protocol::request::leave& request);
  bool handle(protocol::request::who& request);
  bool handle(protocol::request::topic& request);
  bool handle(protocol::request::nick& request);
  bool handle(protocol::request::history& request);
  bool handle(protocol::request::rooms& request);
  bool handle(protocol::request::ping& request);
  bool handle(protocol::request::pong& request);
  bool handle(protocol::request::quit& request);
  bool handle(protocol::request::help& request);
  // The room a request means: the one it names, else the current room.
  const std::string& room_of(const std::string& named) const;
  // Takes a token from the message bucket; false (and an error sent) when empty.
  bool within_rate_limit();
  void send_not_in_room(std::string_view room);
  // When the watchdog must next look, given the session's state.
  boost::asio::steady_timer::time_point next_deadline() const;
  void check_deadlines();
  void send(std::string bytes);
  // Queues past the byte bound and the seal: for the last words of a session
  // (a final error, the shutdown notice) and the end-of-stream marker (null).
  void push(frame f);
  void send_error(protocol::error_code code, std::string_view message);

  // Stops reading, lets the writer flush what is queued (bounded by
  // config.linger), then closes.
  void close_after_flush();
  void drop_as_slow_consumer();
  // Immediate and idempotent: close the socket, cancel every wait, leave.
  void stop();
  void leave_hub();

  socket_type socket_;
  hub& hub_;
  session_registry& registry_;
  const config& config_;
  protocol::line_framer framer_;
  // Input read but not yet handled when a turn ended; empty nearly always.
  std::string backlog_;
  outbox outbox_;
  // The watchdog's timer; anyone changing a deadline cancels it so the
  // watchdog looks again.
  timer_type deadline_;
  using time_point = timer_type::time_point;
  const time_point accepted_at_;
  time_point last_heard_;   // the last frame from the client
  time_point ping_sent_;    // valid while awaiting_pong_
  time_point close_by_;     // valid while closing_
  bool awaiting_pong_ = false;
  // Message token bucket.
  double tokens_;
  time_point tokens_at_;
  // Frames taken from the outbox and not yet fully written, and how much of
  // the first one is already out. Used by the writer only.
  std::vector<frame> unwritten_;
  std::size_t written_of_first_ = 0;
  // The writer waits for writability: a wake-up meanwhile has nothing to do,
  // the end of that wait writes whatever came in the meantime.
  bool write_blocked_ = false;
  // The end marker was taken from the outbox: nothing after it is written.
  bool end_of_stream_ = false;
  // Set once the outbox takes no more ordinary frames (closing, or dropped).
  std::atomic<bool> sealed_{false};
  // The rest is touched on the strand only.
  bool logged_in_ = false;
  // Where plain messages go: the room joined last, or set with /join.
  std::string current_room_;
  bool closing_ = false;
  bool stopped_ = false;
};

}  // namespace chat::server
