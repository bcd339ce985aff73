#include "server/stream_session.hpp"

#include <array>
#include <span>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>

#include "server/log.hpp"
#include "transport/tcp_transport.hpp"
#include "transport/tls_transport.hpp"
#include "transport/websocket_transport.hpp"

namespace chat::server {

namespace asio = boost::asio;

namespace {

// Reads land in one buffer per thread, not per connection: an idle client then
// costs no read buffer at all, and a busy one still reads in large chunks. Safe
// because a read's bytes are handled before the reader next suspends.
[[gnu::noinline]] std::span<char> read_scratch() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

constexpr auto use_tuple = asio::as_tuple(session::awaitable_token{});

}  // namespace

template <class Transport>
stream_session<Transport>::stream_session(Transport transport, hub& hub, session_registry& registry,
                                          const config& cfg, accounts::account_service* accounts)
    : session(transport.get_executor(), hub, registry, cfg, accounts),
      transport_(std::move(transport)) {
  transport_kind_ = metrics::transport_named(Transport::name);
  if constexpr (Transport::carries_messages) carry_messages();
}

template <class Transport>
void stream_session<Transport>::start() {
  auto self = std::static_pointer_cast<stream_session>(shared_from_this());
  asio::co_spawn(strand_, reader(self),
                 [self](std::exception_ptr e) { self->finished("reader", e); });
  asio::co_spawn(strand_, writer(self),
                 [self](std::exception_ptr e) { self->finished("writer", e); });
}

template <class Transport>
void stream_session<Transport>::close_transport() noexcept {
  transport_.close();
}

template <class Transport>
session::awaitable<> stream_session<Transport>::reader(std::shared_ptr<stream_session> self) {
  stream_session& s = *self;
  Transport& stream = s.transport_;
  boost::system::error_code ec;
  if (!stream.prepare(ec)) {
    s.end_reading(ec);
    co_return;
  }
  if constexpr (Transport::negotiates) {
    // The handshake deadline covers the transport's handshake too.
    s.arm_deadline();
    while ((ec = stream.handshake()) == asio::error::would_block) {
      auto [wait_error] = co_await stream.socket().async_wait(stream.handshake_wait(), use_tuple);
      if (s.stopped_) co_return;
      if (wait_error) {
        s.end_reading(wait_error);
        co_return;
      }
    }
    if (ec) {
      // Failed, or over: an HTTP request answered instead of upgraded.
      log(log_level::debug, Transport::name, " handshake ended: ", ec.message());
      s.stop();
      co_return;
    }
  }
  s.establish();
  // The client speaks after the prompt: a read now would most likely fail,
  // unless the handshake left input behind (frames sent with a WebSocket
  // upgrade request), which the socket would not announce again.
  bool may_have_more = false;
  if constexpr (Transport::negotiates) may_have_more = stream.holds_input();
  while (s.reading()) {
    std::string_view input = s.backlog_;
    if (input.empty()) {
      if (!may_have_more) {
        // Asio re-arms the descriptor for every wait (epoll_ctl MOD), which
        // reports input that is already there: skipping a read is safe.
        auto [wait_error] = co_await stream.socket().async_wait(stream.read_wait(), use_tuple);
        if (!s.reading()) break;
        if (wait_error) {
          s.end_reading(wait_error);
          break;
        }
      }
      const std::span<char> scratch = read_scratch();
      const std::size_t n = stream.read_some(scratch, ec);
      if (ec == asio::error::would_block) {
        may_have_more = false;
        continue;
      }
      if (ec) {
        s.end_reading(ec);
        break;
      }
      s.heard_from_client(clock::now());
      metrics::add(metrics::counter::bytes_in, n);
      may_have_more = stream.may_have_more(n, scratch.size());
      input = {scratch.data(), n};
    }
    s.handle_turn(input);
    if (s.input_paused() && s.reading()) {
      // The history writer is too far behind, or a password is being
      // checked: this client waits, with what it sent meanwhile left unread.
      co_await s.wait_for_input_resumed();
      continue;
    }
    // Either way the writers of the recipients, and the other clients of
    // this thread, run before this client is read again.
    if (s.reading() && (may_have_more || !s.backlog_.empty())) {
      co_await asio::post(s.strand_, awaitable_token{});
    }
  }
}

template <class Transport>
session::awaitable<> stream_session<Transport>::writer(std::shared_ptr<stream_session> self) {
  stream_session& s = *self;
  Transport& stream = s.transport_;
  boost::system::error_code ec;
  while (!s.stopped_) {
    if (s.unwritten_.empty()) {
      if (s.end_of_stream_) {
        stream.shutdown_send();
        s.stop();
        break;
      }
      // Everything queued by now goes out together.
      if (!s.take_queued()) co_await s.wait_for_frames();
      continue;
    }
    const std::size_t n = stream.write_some(s.unwritten_, s.written_of_first_, ec);
    if (ec == asio::error::would_block) {
      auto [wait_error] = co_await stream.socket().async_wait(stream.write_wait(), use_tuple);
      if (wait_error && !s.stopped_) {
        log(log_level::debug, "write failed for ", s.name_, ": ", wait_error.message());
        s.stop();
      }
      continue;
    }
    if (ec) {
      log(log_level::debug, "write failed for ", s.name_, ": ", ec.message());
      s.stop();
      break;
    }
    metrics::add(metrics::counter::bytes_out, n);
    s.consume_written(n);
  }
}

template class stream_session<transport::tcp_transport>;
template class stream_session<transport::tls_transport>;
template class stream_session<transport::plain_websocket_transport>;
template class stream_session<transport::secure_websocket_transport>;

}  // namespace chat::server
