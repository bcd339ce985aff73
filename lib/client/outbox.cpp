#include "client/outbox.hpp"

#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chat::client {

namespace asio = boost::asio;

outbox::outbox(const asio::any_io_executor& executor, connection& link)
    : executor_(executor), link_(link), drained_(executor) {}

asio::awaitable<bool> outbox::send(std::string_view frame) {
  if (failed_) co_return false;
  queued_.append(frame);
  if (!writing_) {
    writing_ = true;
    co_await drain();
  }
  // Another coroutine's drain takes our frame along: it is written once that
  // drain is over.
  while (writing_ && !failed_) {
    drained_.expires_at(asio::steady_timer::time_point::max());
    co_await drained_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return !failed_;
}

void outbox::post(std::string_view frame) {
  if (failed_) return;
  queued_.append(frame);
  if (writing_) return;
  // Set now, not when drain() starts running: a send() before that must
  // not start a second writer.
  writing_ = true;
  asio::co_spawn(executor_, drain(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
}

void outbox::close() noexcept {
  failed_ = true;
  queued_.clear();
  drained_.cancel();
}

asio::awaitable<void> outbox::drain() {
  while (!queued_.empty() && !failed_) {
    const std::string batch = std::exchange(queued_, std::string());
    try {
      co_await link_.write(batch);
    } catch (const std::exception&) {
      // The connection is broken both ways; its reads say why.
      failed_ = true;
    }
  }
  queued_.clear();
  writing_ = false;
  drained_.cancel();
}

}  // namespace chat::client
