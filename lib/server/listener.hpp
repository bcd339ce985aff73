#pragma once

#include <span>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/config.hpp"

namespace chat::server {

class hub;
class session_registry;

// Accepts until the acceptor is closed, giving each client a strand of one of
// `workers` in turn: each worker is one thread's io_context.
boost::asio::awaitable<void> listen(boost::asio::ip::tcp::acceptor& acceptor,
                                    std::span<boost::asio::io_context* const> workers, hub& hub,
                                    session_registry& registry, const config& cfg);

}  // namespace chat::server
