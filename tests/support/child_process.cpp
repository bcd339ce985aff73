#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <regex>
#include <stdexcept>

namespace chat::test {

namespace {

using clock = std::chrono::steady_clock;

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

int remaining_ms(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

}  // namespace

child_process::child_process(const std::string& path, const std::vector<std::string>& args) {
  int pipe_fds[2];
  // Close-on-exec, so the only copy of the write end in the child is the
  // duplicate on stdout/stderr: the pipe closes when the program exits.
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail_errno("pipe2");
  output_fd_ = pipe_fds[0];

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  const int error = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (error != 0) {
    errno = error;
    fail_errno("posix_spawn " + path);
  }
  // Through syscall(): glibc 2.36 declares pidfd_open without C linkage.
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) fail_errno("pidfd_open");
}

child_process::~child_process() {
  if (exit_status_ < 0 && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  if (output_fd_ >= 0) ::close(output_fd_);
}

void child_process::send_signal(int signal) {
  if (::kill(pid_, signal) != 0) fail_errno("kill");
}

bool child_process::read_some(int timeout_ms) {
  pollfd entry{output_fd_, POLLIN, 0};
  const int ready = ::poll(&entry, 1, timeout_ms);
  if (ready < 0 && errno != EINTR) fail_errno("poll");
  if (ready <= 0) return true;
  char chunk[4096];
  const ssize_t received = ::read(output_fd_, chunk, sizeof chunk);
  if (received < 0 && errno != EINTR) fail_errno("read");
  if (received == 0) output_closed_ = true;
  if (received > 0) output_.append(chunk, static_cast<std::size_t>(received));
  return !output_closed_;
}

std::string child_process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    if (const auto lf = output_.find('\n'); lf != std::string::npos) {
      std::string line = output_.substr(0, lf);
      output_.erase(0, lf + 1);
      return line;
    }
    if (output_closed_) {
      throw std::runtime_error("the program closed its output; last words: " + output_);
    }
    if (clock::now() >= deadline) {
      throw std::runtime_error("timed out waiting for a line of output; got: " + output_);
    }
    read_some(remaining_ms(deadline));
  }
}

int child_process::wait(std::chrono::milliseconds timeout) {
  if (exit_status_ >= 0) return exit_status_;
  const auto deadline = clock::now() + timeout;
  for (;;) {
    pollfd entries[2] = {{pidfd_, POLLIN, 0}, {output_fd_, POLLIN, 0}};
    const nfds_t count = output_closed_ ? 1 : 2;
    const int ready = ::poll(entries, count, remaining_ms(deadline));
    if (ready < 0 && errno != EINTR) fail_errno("poll");
    if (ready == 0) {
      throw std::runtime_error("the program had not exited after " +
                               std::to_string(timeout.count()) + " ms; output: " + output_);
    }
    // Keep the pipe drained: a program blocked writing its log never exits.
    if (count == 2 && entries[1].revents != 0) read_some(0);
    if (entries[0].revents & POLLIN) break;
  }
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) fail_errno("waitpid");
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // What the program wrote just before exiting is still in the pipe.
  while (!output_closed_ && clock::now() < deadline) read_some(remaining_ms(deadline));
  return exit_status_;
}

std::uint16_t await_listening(child_process& server) {
  static const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
  for (;;) {
    const std::string line = server.read_line();
    std::smatch match;
    if (std::regex_search(line, match, listening)) {
      return static_cast<std::uint16_t>(std::stoi(match[1]));
    }
  }
}

}  // namespace chat::test
