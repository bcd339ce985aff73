#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>

#include "line_client.hpp"
#include "server/server.hpp"
#include "test_pki.hpp"

namespace chat::test {

// The configuration tests start from: a free port, two threads so that
// sessions really run concurrently, only warnings in the log, and no
// fair-use limits.
server::config test_config();

// `config` with a TLS port (0: any free one) presenting `pair`.
server::config with_tls(const key_pair& pair, server::config config = test_config());

// `config` with an HTTP port (WebSocket, health, metrics) on any free port.
server::config with_http(server::config config = test_config());

// `config` with an HTTPS port (what the HTTP port serves, over TLS) on any
// free port, presenting `pair` (the TLS port's --cert and --key, if it has one).
server::config with_https(const key_pair& pair, server::config config = test_config());

// A real chat server on a loopback port, run by a thread of the test process.
class test_server {
public:
  explicit test_server(server::config config = test_config());
  // Stops the server if the test did not.
  ~test_server();
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::uint16_t port() const { return port_; }
  // 0 unless the config asked for a TLS port.
  std::uint16_t tls_port() const { return server_.tls_port(); }
  // 0 unless the config asked for an HTTP port.
  std::uint16_t http_port() const { return server_.http_port(); }
  // 0 unless the config asked for an HTTPS port.
  std::uint16_t https_port() const { return server_.https_port(); }

  // A new connection that has not read anything yet.
  line_client connect(line_client_options options = {}) const;

  // server::stop(), then waits for run() to return and rethrows what run()
  // threw. A server that does not finish within `limit` cannot be recovered
  // from inside the process, so that aborts the test binary with a message.
  void stop(std::chrono::milliseconds limit = std::chrono::seconds(5));
  // server::drain(): returns at once; the server ends by itself, and stop()
  // then waits for it.
  void drain() { server_.drain(); }
  // server::reload_certificates(): returns at once; the reload follows.
  void reload_certificates() { server_.reload_certificates(); }

private:
  server::server server_;
  std::uint16_t port_;
  std::mutex mutex_;
  std::condition_variable finished_cv_;
  bool finished_ = false;
  std::exception_ptr run_error_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace chat::test
