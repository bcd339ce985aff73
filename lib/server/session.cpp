#include "server/session.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/asio/dispatch.hpp>

#include "protocol/event.hpp"
#include "server/commit_watch.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"
#include "server/session_registry.hpp"
#include "server/worker.hpp"

namespace chat::server {

namespace asio = boost::asio;

namespace {

// A frame vector grown past this many frames by a burst (a join's history, a
// slow reader catching up) is freed once the batches written from it are
// much smaller than its capacity: the burst is over, and a connection that
// then idles does not pin its peak. Under steady load the batches stay about
// as large as the vector, which is then kept: regrowing it every batch cost
// more allocations than deliveries.
constexpr std::size_t kept_frame_capacity = 32;
constexpr std::size_t burst_over_ratio = 4;

// Sessions of other threads whose writers this thread woke during its
// current handler (wake_writer).
thread_local std::vector<std::shared_ptr<session>> remote_wakes;

}  // namespace

session::session(executor_type strand, hub& hub, session_registry& registry, const config& cfg,
                 accounts::account_service* accounts)
    : conversation(hub, cfg, clock::now(), accounts),
      strand_(std::move(strand)),
      registry_(registry),
      deadlines_(asio::use_service<deadline_queue>(home())) {}

session::~session() = default;

void session::establish() {
  established_ = true;
  metrics::connection(transport_kind_, +1);
  begin();
  arm_deadline();
}

void session::finished(const char* role, std::exception_ptr error) noexcept {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    log(log_level::error, "session ", role, " failed: ", e.what());
  } catch (...) {
    log(log_level::error, "session ", role, " failed");
  }
  stop();
}

void session::shutdown() {
  asio::dispatch(strand_, [self = std::static_pointer_cast<session>(shared_from_this())] {
    if (self->stopped_ || self->closing()) return;
    if (!self->established_) {
      self->stop();
      return;
    }
    self->sealed_ = true;
    if (!self->warned_of_shutdown_) self->push(make_frame(protocol::encode_shutdown(self->mode_)));
    self->close_after_flush();
  });
}

void session::warn_of_shutdown() {
  asio::dispatch(strand_, [self = std::static_pointer_cast<session>(shared_from_this())] {
    if (self->stopped_ || self->closing() || !self->established_) return;
    self->warned_of_shutdown_ = true;
    self->deliver(make_frame(protocol::encode_shutdown(self->mode_)));
  });
}

void session::displaced() {
  asio::dispatch(strand_, [self = std::static_pointer_cast<session>(shared_from_this())] {
    if (!self->stopped_) self->on_displaced();
  });
}

void session::run_in_session(std::function<void()> job) {
  // A session stopped meanwhile does nothing more: above all, it must not
  // log in to the hub after it left it.
  asio::post(strand_,
             [self = std::static_pointer_cast<session>(shared_from_this()), job = std::move(job)] {
               if (!self->stopped_) job();
             });
}

void session::deliver(frame f) {
  if (sealed_.load(std::memory_order_acquire)) return;
  switch (outbox_.push(std::move(f), config_.max_queue)) {
    case outbox::push_result::queued: return;
    case outbox::push_result::queued_first: wake_writer(); return;
    case outbox::push_result::over_limit:
      if (!sealed_.exchange(true)) {
        asio::post(strand_, [self = std::static_pointer_cast<session>(shared_from_this())] {
          self->drop_as_slow_consumer();
        });
      }
      return;
  }
}

void session::push(frame f) {
  if (outbox_.push(std::move(f))) wake_writer();
}

asio::io_context& session::home() { return strand_.get_inner_executor().context(); }

void session::wake_writer() {
  // Always a post, even on the strand: a push may come from inside the hub's
  // lock, and the writer must not run there.
  asio::io_context* const here = this_thread_worker();
  if (here == nullptr || here == &home()) {
    asio::post(strand_, [self = std::static_pointer_cast<session>(shared_from_this())] {
      self->writer_bell_.ring();
    });
    return;
  }
  // A writer on another thread: one broadcast may wake hundreds of them, and
  // a post to another thread's io_context takes that context's lock and may
  // have to wake its thread with a system call. They are gathered instead and
  // handed over once the current handler is done, one post per thread.
  remote_wakes.push_back(std::static_pointer_cast<session>(shared_from_this()));
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
    asio::post(*home_of(*first), [group = std::vector<std::shared_ptr<session>>(first, last)] {
      for (const auto& s : group) asio::dispatch(s->strand_, [s] { s->writer_bell_.ring(); });
    });
    first = last;
  }
}

void session::doorbell::ring() {
  if (!waiting_) {
    rung_ = true;
    return;
  }
  resume_handler resume = std::move(*waiting_);
  waiting_.reset();
  std::move(resume)();
}

void session::watch_commits() {
  asio::use_service<commit_watch>(home()).watch(
      std::static_pointer_cast<session>(shared_from_this()));
}

bool session::commit_settled(const commit_news& news) {
  // Runs on the session's thread outside any handler of its strand, as
  // deadline_reached() does.
  if (stopped_) return false;
  return on_commit(news.through, news.stored, news.backlogged);
}

void session::resume_input() {
  asio::post(strand_, [self = std::static_pointer_cast<session>(shared_from_this())] {
    self->reader_bell_.ring();
  });
}

bool session::take_queued() {
  outbox_.take_all(unwritten_);
  if (unwritten_.empty()) return false;
  // A null frame ends the stream: what is before it still goes out.
  const auto end = std::find(unwritten_.begin(), unwritten_.end(), nullptr);
  if (end != unwritten_.end()) {
    unwritten_.erase(end, unwritten_.end());
    end_of_stream_ = true;
  }
  batch_size_ = unwritten_.size();
  return true;
}

void session::consume_written(std::size_t bytes) {
  std::size_t finished = 0;
  std::size_t freed = 0;
  for (const frame& f : unwritten_) {
    const std::size_t left = f->size() - written_of_first_;
    if (bytes < left) {
      written_of_first_ += bytes;
      break;
    }
    bytes -= left;
    freed += f->size();
    if (f.message_id() != 0) last_written_id_ = f.message_id();
    written_of_first_ = 0;
    ++finished;
    if (bytes == 0) break;
  }
  unwritten_.erase(unwritten_.begin(), unwritten_.begin() + static_cast<std::ptrdiff_t>(finished));
  outbox_.written(freed);
  if (unwritten_.empty() && unwritten_.capacity() > kept_frame_capacity &&
      unwritten_.capacity() > burst_over_ratio * batch_size_) {
    std::vector<frame>().swap(unwritten_);
  }
}

void session::handle_turn(std::string_view input) {
  const std::size_t consumed = on_input(input, clock::now());
  if (consumed < input.size() && reading()) {
    // The turn ended early: keep the rest, since the read buffer belongs to
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
}

void session::end_reading(const boost::system::error_code& ec) {
  if (ec == asio::error::eof && established_) {
    // The client finished sending; what we still owe it goes out first.
    close_after_flush();
  } else {
    log(log_level::debug, "read failed for ", name_.empty() ? "a new client" : name_, ": ",
        ec.message());
    stop();
  }
}

void session::arm_deadline() {
  const time_point next = next_deadline();
  if (next == time_point::max()) {
    deadlines_.cancel(*this);
  } else {
    deadlines_.schedule(*this, next);
  }
}

void session::deadline_reached() {
  // Called by the deadline queue on this session's thread, outside any
  // handler of its strand: nothing else of the session runs meanwhile.
  if (stopped_) return;
  const auto self = shared_from_this();
  if (!established_) {
    log(log_level::debug, "handshake timed out");
    stop();
    return;
  }
  try {
    on_deadline(clock::now());
    if (!stopped_) arm_deadline();
  } catch (const std::exception& e) {
    log(log_level::error, "session deadline failed: ", e.what());
    stop();
  }
}

void session::deadlines_changed() {
  if (!stopped_) arm_deadline();
}

void session::close_after_flush() {
  if (closing() || stopped_) return;
  if (!established_) {
    stop();
    return;
  }
  sealed_ = true;
  begin_closing(clock::now());
  push(frame());  // the writer stops at this null frame
  deadlines_changed();
}

void session::drop_as_slow_consumer() {
  if (closing() || stopped_) return;
  log(log_level::info, "dropping ", name_, ": more than ", config_.max_queue,
      " bytes queued unread");
  // Discard what is queued but unwritten so that the error is next in line;
  // a frame already partly written must still be finished to keep framing.
  outbox_.discard_all();
  unwritten_.resize(written_of_first_ > 0 && !unwritten_.empty() ? 1 : 0);
  // A frame begun is finished, so the client will have seen its message.
  std::uint64_t last_id = last_written_id_;
  if (!unwritten_.empty() && unwritten_.front().message_id() != 0) {
    last_id = unwritten_.front().message_id();
  }
  metrics::add(metrics::counter::slow_consumers);
  metrics::error_sent(protocol::error_code::slow_consumer);
  push(make_frame(protocol::encode_slow_consumer(mode_, last_id)));
  close_after_flush();
}

void session::stop() {
  if (stopped_) return;
  stopped_ = true;
  sealed_ = true;
  if (established_) metrics::connection(transport_kind_, -1);
  leave_hub();
  close_transport();
  deadlines_.cancel(*this);
  registry_.remove(this);
  // A writer waiting for frames ends too, and a reader waiting for the
  // history writer; posted, since stop() may run inside either.
  asio::post(strand_, [self = std::static_pointer_cast<session>(shared_from_this())] {
    self->writer_bell_.ring();
    self->reader_bell_.ring();
  });
}

}  // namespace chat::server
