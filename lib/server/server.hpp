#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>

#include "server/config.hpp"

namespace chat::server {

// A configuration that cannot work, such as a certificate that does not load;
// what() is one line naming the flag, the file and the reason.
class setup_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The whole chat server: listeners (plain TCP and, with --tls-port, TLS;
// HTTP and WebSocket with --http-port, and over TLS with --https-port),
// sessions and the hub, on one io_context per --threads thread. Asio stays
// behind the pimpl so that including this header is cheap.
class server {
public:
  // Binds and listens; throws std::system_error when an address is unusable
  // and setup_error when the TLS files are.
  explicit server(config cfg);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // The bound ports (the real ones when 0 was asked); tls_port() is 0
  // without --tls-port.
  std::uint16_t port() const;
  std::uint16_t tls_port() const;
  // 0 without --http-port.
  std::uint16_t http_port() const;
  // 0 without --https-port.
  std::uint16_t https_port() const;

  // Reads --cert and --key again for the handshakes to come on the TLS and
  // HTTPS ports (SIGHUP does this); a bad pair keeps the old one, and the
  // log says why. Thread-safe.
  void reload_certificates();

  // Serves on config.threads threads until stop() has finished; returns then.
  void run();

  // Graceful and thread-safe: stop accepting, tell clients, flush, close.
  void stop();

  // Lame duck, thread-safe: stop accepting (/readyz says 503), tell every
  // client to reconnect, close them spread over config.drain, then stop().
  void drain();

  // Drains on SIGINT/SIGTERM (a second one stops at once) and reloads
  // certificates on SIGHUP; call before run().
  void stop_on_signals();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::server
