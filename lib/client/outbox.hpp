#pragma once

#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "client/connection.hpp"

namespace chat::client {

// The frames a client sends, from more than one coroutine (typed lines, the
// answers to the server's pings), written in the order given with never two
// writes at once, which a socket does not allow. Whoever finds it idle
// writes everything queued, including what is queued meanwhile, in as few
// writes as it can. One thread only, like the rest of the client.
class outbox {
public:
  // `link` must outlive the outbox and every coroutine it starts.
  outbox(const boost::asio::any_io_executor& executor, connection& link);

  // Queues `frame` (one or more LF-ended frames) and returns once it is
  // written: true, or false when the connection failed or the outbox was
  // closed. Waiting here is what keeps a fast producer in step with the socket.
  boost::asio::awaitable<bool> send(std::string_view frame);

  // Queues `frame` without waiting for it to go out; a failure shows up in
  // the connection's reads as it does for send().
  void post(std::string_view frame);

  // Drops what is queued and ends every send() in progress with false.
  void close() noexcept;

  // No write is under way: once closed and idle, nothing of the outbox's
  // runs any more and it may be destroyed.
  bool idle() const noexcept { return !writing_; }

private:
  // Writes until nothing is queued; writing_ is set by the caller.
  boost::asio::awaitable<void> drain();

  boost::asio::any_io_executor executor_;
  connection& link_;
  std::string queued_;
  // A drain() is under way: new frames join its queue instead of writing.
  bool writing_ = false;
  bool failed_ = false;
  // Never expires; cancelled whenever a drain ends, to wake send()s waiting
  // for someone else's drain to write their frame.
  boost::asio::steady_timer drained_;
};

}  // namespace chat::client
