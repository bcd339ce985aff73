#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "line_client.hpp"

namespace chat::test {

// A program run by a test, with its stdout and stderr captured together.
// Like line_client, every wait has a deadline and fails by throwing.
class child_process {
public:
  child_process(const std::string& path, const std::vector<std::string>& args);
  // Kills the program if it is still running, so a failed test leaves nothing behind.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  void send_signal(int signal);

  // For what a signal cannot do, such as prlimit(2) on the running program.
  pid_t pid() const noexcept { return pid_; }

  // The next line of output, without its LF.
  std::string read_line(std::chrono::milliseconds timeout = default_timeout);

  // Waits for the program to exit and returns its exit status, or 128 + the
  // signal that killed it. Output is drained meanwhile and kept for output().
  int wait(std::chrono::milliseconds timeout = default_timeout);

  // Everything printed so far that read_line has not returned.
  const std::string& output() const { return output_; }

private:
  // Reads once from the output pipe; false once it is closed.
  bool read_some(int timeout_ms);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int output_fd_ = -1;
  std::string output_;
  bool output_closed_ = false;
  int exit_status_ = -1;
};

// For a chat-server program: reads its log until the line announcing the
// port, and returns the port.
std::uint16_t await_listening(child_process& server);

}  // namespace chat::test
