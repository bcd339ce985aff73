#pragma once

#include <cstdint>
#include <memory>

#include "server/config.hpp"

namespace chat::server {

// The whole chat server: listener, sessions and hub on one io_context.
// Asio stays behind the pimpl so that including this header is cheap.
class server {
public:
  // Binds and listens; throws std::system_error when the address is unusable.
  explicit server(config cfg);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // The bound port (the real one when 0 was asked).
  std::uint16_t port() const;

  // Serves on config.threads threads until stop() has finished; returns then.
  void run();

  // Graceful and thread-safe: stop accepting, tell clients, flush, close.
  void stop();

  // Stops on SIGINT/SIGTERM; call before run().
  void stop_on_signals();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::server
