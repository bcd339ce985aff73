#pragma once

#include <functional>
#include <span>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "transport/stream.hpp"

namespace chat::server {

class session_registry;

// Makes and starts the session of an admitted connection from `peer`.
using session_starter =
    std::function<void(transport::socket_type socket, const boost::asio::ip::address& peer)>;

// How a connection over the registry's caps is turned away: with the error
// line, or, where the client expects a TLS handshake and would take clear
// text for a broken one, by closing it.
enum class refusal { error_line, close };

// Accepts until the acceptor is closed, giving each client a strand of one of
// `workers` in turn (each worker is one thread's io_context), and refusing
// those over the registry's caps.
boost::asio::awaitable<void> listen(boost::asio::ip::tcp::acceptor& acceptor,
                                    std::span<boost::asio::io_context* const> workers,
                                    session_registry& registry, refusal how_to_refuse,
                                    session_starter start);

}  // namespace chat::server
