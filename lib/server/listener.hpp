#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/config.hpp"

namespace chat::server {

class hub;
class session_registry;

// Accepts until the acceptor is closed, giving each client its own strand of `io`.
boost::asio::awaitable<void> listen(boost::asio::ip::tcp::acceptor& acceptor,
                                    boost::asio::io_context& io, hub& hub,
                                    session_registry& registry, const config& cfg);

}  // namespace chat::server
