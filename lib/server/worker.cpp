#include "server/worker.hpp"

namespace chat::server {

namespace {
thread_local boost::asio::io_context* current_worker = nullptr;
}

boost::asio::io_context* this_thread_worker() noexcept { return current_worker; }

void set_this_thread_worker(boost::asio::io_context* worker) noexcept { current_worker = worker; }

}  // namespace chat::server
