#include "server/session.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <span>
#include <variant>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "protocol/event.hpp"
#include "protocol/utf8.hpp"
#include "server/hub.hpp"
#include "server/log.hpp"
#include "server/session_registry.hpp"
#include "server/worker.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

namespace chat::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using protocol::error_code;
using protocol::session_mode;

namespace {

// Reads land in one buffer per thread, not per connection: an idle client then
// costs no read buffer at all, and a busy one still reads in large chunks. Safe
// because a chunk is fully processed before the handler returns.
[[gnu::noinline]] std::span<char> read_scratch() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

// One client's turn: how much of its input is handled before the others on
// its thread (and the writers of its recipients) get to run. It also bounds
// how much one turn can add to a recipient's outbox, so a client that reads
// promptly is never mistaken for a slow consumer after a burst.
constexpr std::size_t max_lines_per_turn = 128;
constexpr std::size_t max_bytes_per_turn = 16 * 1024;

// A frame vector grown past this many frames by a burst (a join's history, a
// slow reader catching up) is freed once the batches written from it are
// much smaller than its capacity: the burst is over, and a connection that
// then idles does not pin its peak. Under steady load the batches stay about
// as large as the vector, which is then kept: regrowing it every batch cost
// more allocations than deliveries.
constexpr std::size_t kept_frame_capacity = 32;

// Sessions of other threads whose writers this thread woke during its
// current handler (wake_writer).
thread_local std::vector<std::shared_ptr<session>> remote_wakes;
constexpr std::size_t burst_over_ratio = 4;

}  // namespace

session::session(socket_type socket, hub& hub, session_registry& registry, const config& cfg)
    : socket_(std::move(socket)),
      hub_(hub),
      registry_(registry),
      config_(cfg),
      framer_(cfg.max_line),
      deadline_(socket_.get_executor()),
      accepted_at_(asio::steady_timer::clock_type::now()),
      last_heard_(accepted_at_),
      tokens_(cfg.rate_burst),
      tokens_at_(accepted_at_) {}

template <class Step>
void session::guarded(const char* role, Step&& step) noexcept {
  try {
    step();
  } catch (const std::exception& e) {
    log(log_level::error, "session ", role, " failed: ", e.what());
    stop();
  }
}

void session::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->guarded("reader", [&] {
      self->send(protocol::encode_prompt());
      boost::system::error_code ec;
      self->socket_.non_blocking(true, ec);
      if (ec) {
        self->end_reading(ec);
      } else {
        // The client speaks after the prompt: a read now would only fail.
        self->wait_readable();
      }
    });
    if (!self->stopped_) self->guarded("watchdog", [&] { self->arm_watchdog(); });
  });
}

void session::shutdown() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    if (self->stopped_ || self->closing_) return;
    self->sealed_ = true;
    self->push(make_frame(protocol::encode_shutdown(self->mode_)));
    self->close_after_flush();
  });
}

void session::deliver(frame f) {
  if (sealed_.load(std::memory_order_acquire)) return;
  switch (outbox_.push(std::move(f), config_.max_queue)) {
    case outbox::push_result::queued:
      return;
    case outbox::push_result::queued_first:
      wake_writer();
      return;
    case outbox::push_result::over_limit:
      if (!sealed_.exchange(true)) {
        asio::post(socket_.get_executor(),
                   [self = shared_from_this()] { self->drop_as_slow_consumer(); });
      }
      return;
  }
}

void session::push(frame f) {
  if (outbox_.push(std::move(f))) wake_writer();
}

auto session::guarded_handler(const char* role, void (session::*step)()) {
  return [self = shared_from_this(), role, step] {
    self->guarded(role, [&] { (self.get()->*step)(); });
  };
}

asio::io_context& session::home() {
  return socket_.get_executor().get_inner_executor().context();
}

void session::wake_writer() {
  // Always a post, even on the strand: a push may come from inside the hub's
  // lock, and the write must not happen there.
  asio::io_context* const here = this_thread_worker();
  if (here == nullptr || here == &home()) {
    asio::post(socket_.get_executor(), guarded_handler("writer", &session::write));
    return;
  }
  // A writer on another thread: one broadcast may wake hundreds of them, and
  // a post to another thread's io_context takes that context's lock and may
  // have to wake its thread with a system call. They are gathered instead and
  // handed over once the current handler is done, one post per thread.
  remote_wakes.push_back(shared_from_this());
  if (remote_wakes.size() == 1) asio::post(*here, [] { hand_over_remote_wakes(); });
}

void session::hand_over_remote_wakes() {
  std::vector<std::shared_ptr<session>> wakes;
  wakes.swap(remote_wakes);
  const auto home_of = [](const std::shared_ptr<session>& s) { return &s->home(); };
  std::sort(wakes.begin(), wakes.end(),
            [&](const auto& a, const auto& b) { return home_of(a) < home_of(b); });
  for (auto first = wakes.begin(); first != wakes.end();) {
    const auto last = std::find_if(first, wakes.end(),
                                   [&](const auto& s) { return home_of(s) != home_of(*first); });
    asio::post(*home_of(*first),
               [group = std::vector<std::shared_ptr<session>>(first, last)] {
                 for (const auto& s : group) {
                   asio::dispatch(s->socket_.get_executor(),
                                  s->guarded_handler("writer", &session::write));
                 }
               });
    first = last;
  }
}

void session::send(std::string bytes) { deliver(make_frame(std::move(bytes))); }

void session::send_error(error_code code, std::string_view message) {
  send(protocol::encode_error(mode_, code, message));
}

void session::read() {
  if (closing_ || stopped_) return;
  std::string_view input;
  // The read took all the kernel had: the next one would most likely fail.
  bool drained = false;
  if (backlog_.empty()) {
    const std::span<char> scratch = read_scratch();
    boost::system::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
    if (ec == asio::error::would_block) {
      wait_readable();
      return;
    }
    if (ec) {
      end_reading(ec);
      return;
    }
    // Any byte from the client shows it is alive, an empty line included.
    last_heard_ = asio::steady_timer::clock_type::now();
    awaiting_pong_ = false;
    input = {scratch.data(), n};
    drained = n < scratch.size();
  } else {
    input = backlog_;
  }
  const std::size_t consumed = process_turn(input);
  if (consumed < input.size() && !closing_) {
    // The turn ended early: keep the rest, since scratch belongs to
    // whichever session runs next on this thread.
    if (backlog_.empty()) {
      backlog_.assign(input.substr(consumed));
    } else {
      backlog_.erase(0, consumed);
    }
  } else if (!backlog_.empty()) {
    backlog_.clear();
    // A flood's leftovers must not stay allocated on a client gone quiet.
    backlog_.shrink_to_fit();
  }
  if (closing_ || stopped_) return;
  // Either way the writers of the recipients run before this client sends more.
  if (drained && backlog_.empty()) {
    wait_readable();
  } else {
    asio::post(socket_.get_executor(), guarded_handler("reader", &session::read));
  }
}

void session::wait_readable() {
  // Asio re-arms the descriptor for every wait (epoll_ctl MOD), which reports
  // input that is already there: skipping a read that would fail is safe.
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->guarded("reader", [&] {
                         if (self->closing_ || self->stopped_) return;
                         if (ec) {
                           self->end_reading(ec);
                         } else {
                           self->read();
                         }
                       });
                     });
}

void session::end_reading(const boost::system::error_code& ec) {
  if (ec == asio::error::eof) {
    // The client finished sending; what we still owe it goes out first.
    close_after_flush();
  } else {
    log(log_level::debug, "read failed for ", name_.empty() ? "a new client" : name_, ": ",
        ec.message());
    stop();
  }
}

std::size_t session::process_turn(std::string_view input) {
  std::size_t lines = 0;
  std::size_t bytes = 0;
  return framer_.feed(input, [&](auto event, std::string_view line) {
    bytes += line.size() + 1;
    return on_line(event, line) && ++lines < max_lines_per_turn && bytes < max_bytes_per_turn;
  });
}

bool session::on_line(protocol::line_framer::event event, std::string_view line) {
  if (event == protocol::line_framer::event::too_long) {
    send_error(error_code::line_too_long,
               "lines are limited to " + std::to_string(config_.max_line) +
                   " bytes; the rest of that line was dropped");
    return true;
  }
  if (!protocol::is_valid_utf8(line)) {
    send_error(error_code::bad_utf8, "the line is not valid UTF-8 and was dropped");
    return true;
  }
  if (!logged_in_) {
    on_handshake(line);
    return !closing_;
  }
  auto decoded = mode_ == session_mode::json ? protocol::decode_json_request(line)
                                             : protocol::decode_plain_request(line);
  if (auto* error = std::get_if<protocol::decode_error>(&decoded)) {
    send_error(error->code, error->message);
    return true;
  }
  return std::visit([this](auto& request) { return handle(request); },
                    std::get<protocol::any_request>(decoded));
}

void session::on_handshake(std::string_view line) {
  // The reply speaks the form the client attempted, even when it failed.
  const session_mode attempted = line.starts_with('{') ? session_mode::json : session_mode::plain;
  auto decoded = protocol::decode_hello(line);
  if (auto* error = std::get_if<protocol::decode_error>(&decoded)) {
    send(protocol::encode_error(attempted, error->code, error->message));
    send(protocol::encode_prompt());
    return;
  }
  auto& hello = std::get<protocol::hello>(decoded);
  name_ = std::move(hello.user);
  mode_ = hello.json ? session_mode::json : session_mode::plain;
  if (!hub_.login(shared_from_this())) {
    send(protocol::encode_error(attempted, error_code::name_taken,
                                "the name " + name_ + " is taken"));
    send(protocol::encode_prompt());
    // Until a login succeeds the session speaks plain text.
    mode_ = session_mode::plain;
    return;
  }
  logged_in_ = true;
  current_room_ = hub_.default_room();
  deadline_.cancel();
  log(log_level::debug, name_, " joined");
}

void session::write() {
  while (!stopped_ && !write_blocked_) {
    if (unwritten_.empty()) {
      if (end_of_stream_) {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        stop();
        return;
      }
      // Everything queued by now goes out together.
      outbox_.take_all(unwritten_);
      if (unwritten_.empty()) return;
      // A null frame ends the stream: what is before it still goes out.
      const auto end = std::find(unwritten_.begin(), unwritten_.end(), nullptr);
      if (end != unwritten_.end()) {
        unwritten_.erase(end, unwritten_.end());
        end_of_stream_ = true;
      }
      continue;
    }
    const auto error = write_unwritten();
    if (error == asio::error::would_block) {
      write_blocked_ = true;
      socket_.async_wait(tcp::socket::wait_write,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                           self->write_blocked_ = false;
                           self->guarded("writer", [&] {
                             if (!ec) {
                               self->write();
                             } else if (!self->stopped_) {
                               log(log_level::debug, "write failed for ", self->name_, ": ",
                                   ec.message());
                               self->stop();
                             }
                           });
                         });
      return;
    }
    if (error) {
      log(log_level::debug, "write failed for ", name_, ": ", error.message());
      stop();
      return;
    }
  }
}

boost::system::error_code session::write_unwritten() {
  // Built per call in a per-thread array: there is no suspension between
  // filling it and the system call.
  thread_local std::array<iovec, IOV_MAX> iov;
  const std::size_t batch = unwritten_.size();
  while (!unwritten_.empty()) {
    std::size_t count = 0;
    for (const frame& f : unwritten_) {
      if (count == iov.size()) break;
      const std::size_t skip = count == 0 ? written_of_first_ : 0;
      iov[count++] = {const_cast<char*>(f->data() + skip), f->size() - skip};
    }
    msghdr message{};
    message.msg_iov = iov.data();
    message.msg_iovlen = count;
    // One gather write for every queued frame; MSG_NOSIGNAL because a peer
    // that vanished must be an error code, not SIGPIPE.
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return asio::error::would_block;
      return {errno, boost::system::system_category()};
    }
    std::size_t remaining = static_cast<std::size_t>(sent);
    std::size_t finished = 0;
    std::size_t freed = 0;
    for (const frame& f : unwritten_) {
      const std::size_t left = f->size() - written_of_first_;
      if (remaining < left) {
        written_of_first_ += remaining;
        break;
      }
      remaining -= left;
      freed += f->size();
      written_of_first_ = 0;
      ++finished;
      if (remaining == 0) break;
    }
    unwritten_.erase(unwritten_.begin(), unwritten_.begin() + static_cast<std::ptrdiff_t>(finished));
    outbox_.written(freed);
  }
  if (unwritten_.capacity() > kept_frame_capacity &&
      unwritten_.capacity() > burst_over_ratio * batch) {
    std::vector<frame>().swap(unwritten_);
  }
  return {};
}

void session::arm_watchdog() {
  deadline_.expires_at(next_deadline());
  // Woken early by a cancel() whenever a deadline changes: it then looks again.
  deadline_.async_wait([self = shared_from_this()](const boost::system::error_code&) {
    if (self->stopped_) return;
    self->guarded("watchdog", [&] {
      self->check_deadlines();
      if (!self->stopped_) self->arm_watchdog();
    });
  });
}

session::time_point session::next_deadline() const {
  if (closing_) return close_by_;
  if (!logged_in_) return accepted_at_ + config_.handshake_timeout;
  time_point next = time_point::max();
  if (config_.idle_timeout.count() > 0) next = last_heard_ + config_.idle_timeout;
  if (mode_ == session_mode::json && config_.ping_interval.count() > 0) {
    next = std::min(next, (awaiting_pong_ ? ping_sent_ : last_heard_) + config_.ping_interval);
  }
  return next;
}

void session::check_deadlines() {
  const time_point now = asio::steady_timer::clock_type::now();
  if (now < next_deadline()) return;  // woken by a change, not by time
  if (closing_) {
    log(log_level::debug, "closing ", name_, " without a full flush");
    stop();
  } else if (!logged_in_) {
    send_error(error_code::timeout, "no name was given in time");
    close_after_flush();
  } else if (config_.idle_timeout.count() > 0 && now >= last_heard_ + config_.idle_timeout) {
    send_error(error_code::timeout, "silent for too long");
    close_after_flush();
  } else if (awaiting_pong_) {
    send_error(error_code::timeout, "no answer to ping");
    close_after_flush();
  } else {
    send(protocol::encode_ping());
    awaiting_pong_ = true;
    ping_sent_ = now;
  }
}

void session::close_after_flush() {
  if (closing_ || stopped_) return;
  closing_ = true;
  sealed_ = true;
  leave_hub();
  push(frame());  // the writer stops at this null frame
  close_by_ = asio::steady_timer::clock_type::now() + config_.linger;
  deadline_.cancel();
}

void session::drop_as_slow_consumer() {
  if (closing_ || stopped_) return;
  log(log_level::info, "dropping ", name_, ": more than ", config_.max_queue,
      " bytes queued unread");
  // Discard what is queued but unwritten so that the error is next in line;
  // a frame already partly written must still be finished to keep framing.
  outbox_.discard_all();
  unwritten_.resize(written_of_first_ > 0 && !unwritten_.empty() ? 1 : 0);
  push(make_frame(protocol::encode_error(mode_, error_code::slow_consumer,
                                         "you fell too far behind and were disconnected")));
  close_after_flush();
}

void session::leave_hub() {
  if (!logged_in_) return;
  logged_in_ = false;
  hub_.logout(*this);
}

void session::stop() {
  if (stopped_) return;
  stopped_ = true;
  sealed_ = true;
  leave_hub();
  boost::system::error_code ignored;
  socket_.close(ignored);
  deadline_.cancel();
  registry_.remove(this);
}

}  // namespace chat::server
