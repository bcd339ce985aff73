#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

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
class session final : public member, public std::enable_shared_from_this<session> {
public:
  session(boost::asio::ip::tcp::socket socket, hub& hub, session_registry& registry,
          const config& cfg);

  void start();

  // Thread-safe: tells the client the server is going down, flushes what is
  // queued and closes.
  void shutdown();

  void deliver(const frame& f) override;

private:
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> watchdog();
  // Writes unwritten_ until it is empty or the kernel takes no more
  // (would_block); any other error ends the session.
  boost::system::error_code write_unwritten();

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

  boost::asio::ip::tcp::socket socket_;
  hub& hub_;
  session_registry& registry_;
  const config& config_;
  protocol::line_framer framer_;
  // Input read but not yet handled when a turn ended; empty nearly always.
  std::string backlog_;
  outbox outbox_;
  // The watchdog's timer; anyone changing a deadline cancels it so the
  // watchdog looks again.
  boost::asio::steady_timer deadline_;
  using time_point = boost::asio::steady_timer::time_point;
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
  // Bytes queued but not yet written: the slow-consumer bound applies to it.
  std::atomic<std::size_t> queued_bytes_{0};
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
