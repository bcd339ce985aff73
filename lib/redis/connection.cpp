#include "redis/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <exception>

namespace chat::redis {

namespace {

using boost::system::error_code;
using clock = std::chrono::steady_clock;

// The coroutines end by returning; an exception escaping one is a bug to see.
void report_exception(const char* who, std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "redis connection %s: %s\n", who, e.what());
  }
}

}  // namespace

connection::connection(executor strand, connection_options options, push_handler on_push)
    : strand_(strand),
      options_(options),
      on_push_(std::move(on_push)),
      resolver_(strand),
      socket_(strand),
      wake_(strand),
      watchdog_timer_(strand),
      done_(strand),
      parser_(options.limits),
      read_buffer_(16 * 1024) {}

connection::~connection() = default;

std::string connection::encode(const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  return encode_command(views);
}

void connection::complete(handler_type handler, error_code error, reply value) {
  // Posted, never called inline: the reader must not run a caller's code
  // in the middle of its loop, nor a caller's code on our strand.
  // Never blocking: any_completion_executor can only prefer it, which for
  // every executor Asio has means a post.
  auto target =
      asio::prefer(asio::get_associated_executor(handler), asio::execution::blocking.never,
                   asio::execution::outstanding_work.tracked);
  target.execute([handler = std::move(handler), error, value = std::move(value)]() mutable {
    std::move(handler)(error, std::move(value));
  });
}

void connection::submit(std::string bytes, handler_type handler) {
  asio::dispatch(strand_, [self = shared_from_this(), bytes = std::move(bytes),
                           handler = std::move(handler)]() mutable {
    self->enqueue(std::move(bytes), std::move(handler));
  });
}

void connection::enqueue(std::string bytes, std::optional<handler_type> handler) {
  const bool open = !stopped_ && (up_ || handshaking_);
  if (!open || waiting_.size() >= options_.max_queued) {
    if (handler) {
      complete(std::move(*handler), open ? errc::queue_full : errc::not_connected, reply{});
    }
    return;
  }
  push(std::move(bytes), pending{std::move(handler), false, {}});
}

void connection::push(std::string bytes, pending request) {
  waiting_.push_back(queued{std::move(bytes), std::move(request)});
  if (writer_idle_) wake_.cancel();
}

void connection::close() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->stop(errc::closed); });
}

void connection::stop(error_code reason) {
  if (stopped_) return;
  stopped_ = true;
  up_ = false;
  reason_ = reason;
  error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  wake_.cancel();
  watchdog_timer_.cancel();
  done_.cancel();
  for (pending& request : in_flight_) {
    if (request.handler) complete(std::move(*request.handler), reason, reply{});
  }
  for (queued& item : waiting_) {
    if (item.request.handler) complete(std::move(*item.request.handler), reason, reply{});
  }
  in_flight_.clear();
  waiting_.clear();
}

bool connection::is_push(const reply& value) const {
  if (!on_push_ || !value.is_array() || value.elements().empty()) return false;
  const std::string& kind = value.elements().front().text();
  return kind == "message" || kind == "pmessage" || kind == "subscribe" || kind == "unsubscribe" ||
         kind == "psubscribe" || kind == "punsubscribe";
}

asio::awaitable<error_code> connection::run(address where, std::function<void()> on_up,
                                            std::string greeting) {
  auto self = shared_from_this();
  error_code error;
  // One deadline for resolving and connecting: on expiry both are cancelled.
  asio::steady_timer connect_timer(strand_, options_.connect_timeout);
  bool connecting = true;
  connect_timer.async_wait([this, self, &connecting](error_code timer_error) {
    if (timer_error || !connecting) return;
    error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);
  });
  const auto endpoints = co_await resolver_.async_resolve(
      where.host, std::to_string(where.port), asio::redirect_error(asio::use_awaitable, error));
  if (!error && !stopped_) {
    co_await asio::async_connect(socket_, endpoints,
                                 asio::redirect_error(asio::use_awaitable, error));
  }
  connecting = false;
  connect_timer.cancel();
  if (error || stopped_) {
    stop(errc::connect_failed);
    co_return reason_;
  }
  socket_.set_option(asio::ip::tcp::no_delay(true), error);

  auto log = [](const char* who) {
    return [who](std::exception_ptr e) { report_exception(who, e); };
  };
  asio::co_spawn(strand_, reader(self), log("reader"));
  asio::co_spawn(strand_, writer(self), log("writer"));
  asio::co_spawn(strand_, watchdog(self), log("watchdog"));

  // The handshake goes through the pipeline like any command, before up_.
  handshaking_ = true;
  if (where.db != 0) {
    const std::vector<std::string> select = {"SELECT", std::to_string(where.db)};
    const reply selected =
        co_await async_command(select, asio::redirect_error(asio::use_awaitable, error));
    if (!error && !selected.is_status("OK")) error = errc::handshake_failed;
  }
  if (!error && !greeting.empty()) push(std::move(greeting), pending{});
  if (!error) {
    // In subscribe mode the answer is ["pong", ""]; any answer will do: what
    // matters is that everything before it was read.
    const std::vector<std::string> ping = {"PING"};
    co_await async_command(ping, asio::redirect_error(asio::use_awaitable, error));
  }
  handshaking_ = false;
  if (error || stopped_) {
    stop(error && error != errc::not_connected ? error : make_error_code(errc::handshake_failed));
    co_return reason_;
  }
  up_ = true;
  if (on_up) on_up();
  while (!stopped_) {
    done_.expires_at(clock::time_point::max());
    co_await done_.async_wait(asio::redirect_error(asio::use_awaitable, error));
  }
  co_return reason_;
}

asio::awaitable<void> connection::reader(std::shared_ptr<connection> /*self: keeps it alive*/) {
  error_code error;
  while (!stopped_) {
    const std::size_t count = co_await socket_.async_read_some(
        asio::buffer(read_buffer_), asio::redirect_error(asio::use_awaitable, error));
    if (stopped_) co_return;
    if (error) {
      stop(errc::connection_lost);
      co_return;
    }
    if (!parser_.feed(std::string_view(read_buffer_.data(), count))) {
      std::fprintf(stderr, "redis: %s\n", parser_.error().c_str());
      stop(errc::protocol_error);
      co_return;
    }
    while (auto value = parser_.next()) {
      if (is_push(*value)) {
        on_push_(std::move(*value));
        if (stopped_) co_return;
        continue;
      }
      if (in_flight_.empty()) {
        stop(errc::protocol_error);
        co_return;
      }
      pending request = std::move(in_flight_.front());
      in_flight_.pop_front();
      if (request.handler) complete(std::move(*request.handler), {}, std::move(*value));
    }
  }
}

asio::awaitable<void> connection::writer(std::shared_ptr<connection> /*self: keeps it alive*/) {
  error_code error;
  std::string batch;
  while (!stopped_) {
    if (waiting_.empty()) {
      wake_.expires_after(options_.health_interval);
      writer_idle_ = true;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, error));
      writer_idle_ = false;
      if (stopped_) co_return;
      // Idle for a whole interval: ask, so that silence is noticed.
      if (waiting_.empty()) {
        pending ping;
        ping.health_check = true;
        waiting_.push_back(queued{encode({"PING"}), std::move(ping)});
      }
    }
    batch.clear();
    const bool was_idle = in_flight_.empty();
    const auto now = clock::now();
    bool answered = false;
    for (queued& item : waiting_) {
      batch += item.bytes;
      // A command answered by pushes (SUBSCRIBE) waits for no reply.
      if (item.request.handler || item.request.health_check) {
        item.request.sent_at = now;
        in_flight_.push_back(std::move(item.request));
        answered = true;
      }
    }
    waiting_.clear();
    if (was_idle && answered) watchdog_timer_.cancel();
    co_await asio::async_write(socket_, asio::buffer(batch),
                               asio::redirect_error(asio::use_awaitable, error));
    if (stopped_) co_return;
    if (error) {
      stop(errc::connection_lost);
      co_return;
    }
  }
}

asio::awaitable<void> connection::watchdog(std::shared_ptr<connection> /*self: keeps it alive*/) {
  error_code error;
  while (!stopped_) {
    const auto deadline = in_flight_.empty() ? clock::time_point::max()
                                             : in_flight_.front().sent_at + options_.reply_timeout;
    if (deadline != clock::time_point::max() && clock::now() >= deadline) {
      stop(errc::reply_timeout);
      co_return;
    }
    watchdog_timer_.expires_at(deadline);
    co_await watchdog_timer_.async_wait(asio::redirect_error(asio::use_awaitable, error));
  }
}

}  // namespace chat::redis
