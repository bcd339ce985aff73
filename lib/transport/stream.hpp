#pragma once

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

namespace chat::transport {

// A concrete strand, not any_io_executor: it fits in the small buffer of any
// type-erased executor, so copying it (every wait does) never allocates.
using executor_type = boost::asio::strand<boost::asio::io_context::executor_type>;
using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor_type>;
using wait_type = boost::asio::socket_base::wait_type;

}  // namespace chat::transport
