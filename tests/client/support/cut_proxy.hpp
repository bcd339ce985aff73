#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace chat::test {

// A TCP relay between a client and the server on `upstream_port`, which a
// test can cut: the way to lose a client's connection while the server
// stays up, and to keep the client away for as long as the test needs
// (refusing: every new connection is accepted and closed at once, which
// the client sees as a server hanging up during login).
class cut_proxy {
public:
  explicit cut_proxy(std::uint16_t upstream_port);
  ~cut_proxy();
  cut_proxy(const cut_proxy&) = delete;
  cut_proxy& operator=(const cut_proxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  // Closes every relayed connection, both sides: the server sees its
  // client go as the client sees the server go.
  void cut();
  void refuse(bool on) noexcept { refusing_ = on; }

private:
  struct pair {
    int client;
    int server;
  };
  void accept_loop();
  void relay(pair p);

  std::uint16_t upstream_port_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> refusing_{false};
  std::mutex mutex_;
  std::vector<pair> pairs_;  // guarded by mutex_; fds owned by their relay thread
  std::vector<std::thread> relays_;
  std::thread acceptor_;
};

}  // namespace chat::test
