#include "test_server.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace chat::test {

server::config test_config() {
  server::config config;
  config.port = 0;
  config.threads = 2;
  config.level = server::log_level::warn;
  // Fair-use limits off, as for any load test; the tests of the limits set them.
  config.rate_limit = 0;
  config.max_per_ip = 0;
  return config;
}

server::config with_http(server::config config) {
  config.http_port = 0;
  return config;
}

server::config with_https(const key_pair& pair, server::config config) {
  config.https_port = 0;
  config.cert_file = pair.cert_file;
  config.key_file = pair.key_file;
  return config;
}

server::config with_tls(const key_pair& pair, server::config config) {
  config.tls_port = 0;
  config.cert_file = pair.cert_file;
  config.key_file = pair.key_file;
  return config;
}

test_server::test_server(server::config config)
    : server_(std::move(config)), port_(server_.port()) {
  thread_ = std::thread([this] {
    std::exception_ptr error;
    try {
      server_.run();
    } catch (...) {
      error = std::current_exception();
    }
    const std::lock_guard lock(mutex_);
    run_error_ = error;
    finished_ = true;
    finished_cv_.notify_all();
  });
}

test_server::~test_server() {
  if (stopped_) return;
  try {
    stop(std::chrono::seconds(10));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "server::run() failed: %s\n", e.what());
  }
}

line_client test_server::connect(line_client_options options) const {
  return line_client(port_, options);
}

void test_server::stop(std::chrono::milliseconds limit) {
  if (std::exchange(stopped_, true)) return;
  server_.stop();
  std::unique_lock lock(mutex_);
  if (!finished_cv_.wait_for(lock, limit, [this] { return finished_; })) {
    std::fprintf(stderr, "server::run() had not returned %lld ms after stop(); aborting\n",
                 static_cast<long long>(limit.count()));
    std::abort();
  }
  lock.unlock();
  thread_.join();
  if (run_error_) std::rethrow_exception(run_error_);
}

}  // namespace chat::test
