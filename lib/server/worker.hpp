#pragma once

namespace boost::asio {
class io_context;
}

namespace chat::server {

// The io_context the calling thread runs, or null on any other thread. Set
// once by each worker thread before it runs its context (server.cpp).
boost::asio::io_context* this_thread_worker() noexcept;
void set_this_thread_worker(boost::asio::io_context* worker) noexcept;

}  // namespace chat::server
