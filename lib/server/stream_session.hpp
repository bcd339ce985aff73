#pragma once

#include <memory>

#include "server/session.hpp"

namespace chat::server {

// A session over one transport (transport/tcp_transport.hpp,
// transport/tls_transport.hpp, transport/websocket_transport.hpp over either):
// the reader and the writer, two coroutines on the session's strand linked by
// the outbox.
//
//   reader: wait readable -> read what is there -> conversation -> hub
//   writer: wait for frames -> take all queued -> one gathered write
//
// Written once; each transport is an explicit instantiation (stream_session.cpp).
template <class Transport>
class stream_session final : public session {
public:
  stream_session(Transport transport, hub& hub, session_registry& registry, const config& cfg,
                 accounts::account_service* accounts);

  void start() override;

private:
  static awaitable<> reader(std::shared_ptr<stream_session> self);
  static awaitable<> writer(std::shared_ptr<stream_session> self);

  void close_transport() noexcept override;

  Transport transport_;
};

}  // namespace chat::server
