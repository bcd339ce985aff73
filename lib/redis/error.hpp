#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace chat::redis {

// Why a command did not get its reply. A reply that is a Redis error
// (-ERR ...) is not one of these: it is a reply.
enum class errc {
  // No connection is up: the command fails at once instead of waiting,
  // so that local delivery goes on during an outage.
  not_connected = 1,
  // The connection ended (closed by either side, or a failed write or read)
  // after the command was sent or queued.
  connection_lost,
  // No reply came within the reply timeout: Redis is hung or unreachable.
  reply_timeout,
  // The server sent what is not RESP, a reply nobody asked for, or a reply
  // over the parser's limits.
  protocol_error,
  // Resolving or connecting did not succeed within the connect timeout.
  connect_failed,
  // SELECT (or the first PING) was answered with an error.
  handshake_failed,
  // The queue of unsent commands is full.
  queue_full,
  // close() or stop() was called.
  closed,
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace chat::redis

template <>
struct boost::system::is_error_code_enum<chat::redis::errc> : std::true_type {};
