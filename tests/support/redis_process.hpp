#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "child_process.hpp"

namespace chat::test {

// A real redis-server for a test, on a free loopback port, with a
// temporary directory of its own (removed at the end). The constructor
// returns once it answers PING. It can be stopped and started again on the
// same port, and paused (SIGSTOP) to play a Redis that hangs.
class redis_process {
public:
  // append_only: with an append-only file, so that a restart keeps the data.
  explicit redis_process(bool append_only = false);
  ~redis_process();
  redis_process(const redis_process&) = delete;
  redis_process& operator=(const redis_process&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // redis://127.0.0.1:PORT, or with /DB.
  std::string url(int db = 0) const;

  // SIGTERM, and waits for it to exit.
  void stop();
  // On the same port; waits until it answers PING.
  void start();
  void restart() {
    stop();
    start();
  }
  void pause();
  void resume();

private:
  // Starts it on port_; false if it did not answer PING in time (the port
  // was taken, for one), and then it is gone.
  bool launch();

  std::filesystem::path dir_;
  bool append_only_;
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
  bool paused_ = false;
};

}  // namespace chat::test
