#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace chat::test {

// A chat server that gets the handshake and the wire forms right, then breaks
// its promises on purpose, so that a test can hold chat-bench's counts against
// what was really done. Recipients are told apart by the order they logged in
// (k = 0, 1, 2...); for the n-th message of one sender to one recipient, with
// n within [first_faulty, last_faulty]:
//   k % 4 == 1: n % 10 == 3 is dropped;
//   k % 4 == 2: n % 10 == 5 is sent twice;
//   k % 4 == 3: n % 10 == 7 is held back and sent right after the next one;
//   k % 4 == 0: after n % 100 == 50, a message from "stranger" follows.
// n counts warm-up messages too; a window starting at 11 keeps them intact.
class faulty_server {
public:
  struct counts {
    std::uint64_t dropped = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t reordered = 0;
    std::uint64_t foreign = 0;
  };

  // Listens on 127.0.0.1, a free port, and serves on a thread of its own.
  faulty_server(std::uint64_t first_faulty, std::uint64_t last_faulty);
  ~faulty_server();
  faulty_server(const faulty_server&) = delete;
  faulty_server& operator=(const faulty_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // What was done so far; call once the bench has finished.
  counts injected() const noexcept;

private:
  struct state;
  std::shared_ptr<state> state_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace chat::test
