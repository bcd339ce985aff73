#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis/address.hpp"
#include "redis/error.hpp"
#include "redis/reply.hpp"
#include "redis/resp.hpp"

namespace chat::redis {

namespace asio = boost::asio;

// Every coroutine, socket and timer of a connection runs on one strand: the
// queues need no lock, and callers on any thread reach them by dispatch.
using executor = asio::strand<asio::io_context::executor_type>;

// Tuning; the defaults suit a server, tests make them small.
struct connection_options {
  // Resolving and connecting, together.
  std::chrono::milliseconds connect_timeout{2'000};
  // A PING is sent after this long with nothing to write, so that a Redis
  // that stopped answering is noticed even when nothing is asked of it.
  std::chrono::milliseconds health_interval{1'000};
  // The oldest command sent may wait this long for its reply; past it the
  // connection is given up. A hung Redis is noticed within
  // health_interval + reply_timeout.
  std::chrono::milliseconds reply_timeout{2'000};
  // Commands queued and not yet written; past it a command fails at once.
  std::size_t max_queued = 100'000;
  parser_limits limits{};
};

// One TCP connection to Redis, pipelined as Boost.Redis does it: commands
// queue; the writer takes every queued command and writes them in one
// write; the reader completes them with their replies in the order sent.
// It does not reconnect: its owner (client, subscriber) makes a new one.
class connection : public std::enable_shared_from_this<connection> {
public:
  using signature = void(boost::system::error_code, reply);
  using handler_type = asio::any_completion_handler<signature>;
  // For subscribe mode: called, on the strand, with every reply that is a
  // pub/sub push (message, pmessage, subscribe, unsubscribe, ...).
  using push_handler = std::function<void(reply&&)>;

  connection(executor strand, connection_options options, push_handler on_push = {});
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // On the strand: connects to `where`, selects its db, sends `greeting`
  // (bytes of commands whose replies are pushes, such as SUBSCRIBE) and
  // waits for a PING after it; then calls on_up and runs until the
  // connection fails or close() is called. Returns why it ended. Call once.
  asio::awaitable<boost::system::error_code> run(address where, std::function<void()> on_up,
                                                 std::string greeting = {});

  // Sends `args` as one command; completes with its reply, or at once with
  // errc::not_connected if the connection is not up. From any thread; the
  // handler runs on its own associated executor.
  template <typename Token>
  auto async_command(std::vector<std::string> args, Token&& token) {
    return asio::async_initiate<Token, signature>(
        [self = shared_from_this()](auto handler, std::vector<std::string> words) {
          self->submit(encode(words), handler_type(std::move(handler)));
        },
        token, std::move(args));
  }
  asio::awaitable<reply> command(std::vector<std::string> args) {
    return async_command(std::move(args), asio::use_awaitable);
  }

  // On the strand: queues encoded command bytes, answered (a handler) or
  // not (a push answers it, in subscribe mode).
  void enqueue(std::string bytes, std::optional<handler_type> handler);

  // Ends the connection: queued and sent commands fail with errc::closed.
  // From any thread.
  void close();

  // Set on the strand when the handshake is done, cleared when it ends.
  bool is_up() const noexcept { return up_; }
  const executor& get_executor() const noexcept { return strand_; }

  static std::string encode(const std::vector<std::string>& args);
  // Calls `handler` on its own executor, never inline.
  static void complete(handler_type handler, boost::system::error_code error, reply value);

private:
  struct pending {
    // Empty for a command whose reply is a push, and for the health check.
    std::optional<handler_type> handler;
    bool health_check = false;
    std::chrono::steady_clock::time_point sent_at{};
  };
  struct queued {
    std::string bytes;
    pending request;
  };

  void submit(std::string bytes, handler_type handler);
  void push(std::string bytes, pending request);
  // Ends the connection once: the socket closes, the coroutines' waits end,
  // every command not answered fails with `reason`.
  void stop(boost::system::error_code reason);
  bool is_push(const reply& value) const;

  asio::awaitable<void> reader(std::shared_ptr<connection> self);
  asio::awaitable<void> writer(std::shared_ptr<connection> self);
  asio::awaitable<void> watchdog(std::shared_ptr<connection> self);

  executor strand_;
  connection_options options_;
  push_handler on_push_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  // The writer's doorbell and idle clock: a wait cancelled by a new command.
  asio::steady_timer wake_;
  // Expires when the oldest command sent is overdue.
  asio::steady_timer watchdog_timer_;
  // run() waits on it until stop().
  asio::steady_timer done_;
  resp_parser parser_;
  std::vector<char> read_buffer_;
  // Not yet written, then written and waiting for a reply: both FIFO.
  std::deque<queued> waiting_;
  std::deque<pending> in_flight_;
  bool writer_idle_ = false;
  // Read from any thread by is_up().
  std::atomic<bool> up_ = false;
  bool stopped_ = false;
  // Handshake commands pass before up_; everything else waits for it.
  bool handshaking_ = false;
  boost::system::error_code reason_;
};

}  // namespace chat::redis
