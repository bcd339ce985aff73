#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/error_code.hpp"
#include "protocol/event.hpp"

// What /metrics reports: counters kept per thread, each written by its own
// thread only (a relaxed load and store, no locked instruction), and summed
// over every thread when scraped. A scrape therefore costs the threads that
// deliver nothing but the cache lines it reads.
namespace chat::server::metrics {

enum class counter : std::uint8_t {
  logins,          // sessions that logged in (guests and accounts)
  messages_in,     // room and direct messages accepted from clients
  deliveries,      // frames handed to recipients' outboxes by a broadcast
  bytes_in,        // bytes read from clients (after TLS and WebSocket framing)
  bytes_out,       // bytes written to clients (the same)
  slow_consumers,  // sessions dropped for leaving too much unread
  count_,
};

// websocket_tls: WebSocket over TLS, on the HTTPS port.
enum class transport : std::uint8_t { tcp, tls, websocket, websocket_tls, count_ };
// The label of a transport by its name (tcp_transport::name and so on).
constexpr transport transport_named(std::string_view name) noexcept {
  return name == "tls"             ? transport::tls
         : name == "websocket"     ? transport::websocket
         : name == "websocket-tls" ? transport::websocket_tls
                                   : transport::tcp;
}

void add(counter c, std::uint64_t n = 1) noexcept;
void error_sent(protocol::error_code code) noexcept;
// Gauges, kept as the sum of every thread's ups and downs.
void connection(transport t, int change) noexcept;
void session(protocol::session_mode form, int change) noexcept;

// A sample of one message's delivery, from its receipt to the write of its
// last recipient's copy, in seconds (timed frames: frame::time_delivery).
void delivery_latency(double seconds) noexcept;

// What the server adds that is not counted here (the history writer's
// backlog), read at the scrape.
struct gauges {
  std::uint64_t history_backlog_bytes = 0;
  bool history = false;  // a history store is open
};

// Every family in the Prometheus text format (version 0.0.4).
std::string render(const gauges& g);

// The text of an error frame, counted by code: the server makes its error
// frames here.
template <class... Extra>
std::string error_text(protocol::session_mode mode, protocol::error_code code,
                       std::string_view message, Extra... extra) {
  error_sent(code);
  return protocol::encode_error(mode, code, message, extra...);
}

}  // namespace chat::server::metrics
