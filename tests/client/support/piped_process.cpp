#include "support/piped_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace chat::test {

namespace {

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::system_category(), what);
}

constexpr auto write_deadline = std::chrono::seconds(5);

void close_fd(int& fd) {
  if (fd != -1) ::close(fd);
  fd = -1;
}

struct pipe_pair {
  int read = -1;
  int write = -1;
};

pipe_pair make_pipe() {
  int fds[2];
  // Close-on-exec, so no other child inherits our ends and holds them open.
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe2");
  return {fds[0], fds[1]};
}

}  // namespace

piped_process::piped_process(const std::vector<std::string>& argv,
                             const std::optional<std::string>& stdin_path) {
  pipe_pair in;
  if (!stdin_path) in = make_pipe();
  pipe_pair out = make_pipe();
  pipe_pair err = make_pipe();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_path) {
    posix_spawn_file_actions_addopen(&actions, 0, stdin_path->c_str(), O_RDONLY, 0);
  } else {
    posix_spawn_file_actions_adddup2(&actions, in.read, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&actions, err.write, 2);
  // Nothing else of ours: Asio opens sockets without close-on-exec, and a
  // client holding the in-process server's listening socket keeps its port
  // taken after the server stops, so a restart on that port fails.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);

  stdin_child_end_ = in.read;
  close_fd(out.write);
  close_fd(err.write);
  stdin_fd_ = in.write;
  // Our copy of the read end means a write never fails with EPIPE, so a write
  // to a child that stopped reading would block: make it wait with a deadline.
  if (stdin_fd_ != -1) ::fcntl(stdin_fd_, F_SETFL, O_NONBLOCK);
  stdout_fd_ = out.read;
  stderr_fd_ = err.read;
  if (rc != 0) {
    close_stdin();
    close_fd(stdin_child_end_);
    close_fd(stdout_fd_);
    close_fd(stderr_fd_);
    errno = rc;
    fail("posix_spawn");
  }
}

piped_process::~piped_process() {
  close_stdin();
  if (pid_ != -1) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  close_fd(stdin_child_end_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

void piped_process::write_stdin(std::string_view bytes) {
  const auto deadline = std::chrono::steady_clock::now() + write_deadline;
  while (!bytes.empty()) {
    const ssize_t n = ::write(stdin_fd_, bytes.data(), bytes.size());
    if (n >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) fail("write to child stdin");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd entry{stdin_fd_, POLLOUT, 0};
    if (left.count() <= 0 || ::poll(&entry, 1, static_cast<int>(left.count())) == 0) {
      throw std::runtime_error("the child does not read its stdin");
    }
  }
}

void piped_process::close_stdin() { close_fd(stdin_fd_); }

std::optional<int> piped_process::stdin_flags() const {
  if (stdin_child_end_ == -1) return std::nullopt;
  const int flags = ::fcntl(stdin_child_end_, F_GETFL);
  if (flags == -1) fail("fcntl");
  return flags;
}

void piped_process::send_signal(int signal_number) {
  if (pid_ != -1 && ::kill(pid_, signal_number) != 0) fail("kill");
}

bool piped_process::pump(std::chrono::steady_clock::time_point deadline) {
  pollfd fds[2];
  nfds_t count = 0;
  for (int fd : {stdout_fd_, stderr_fd_}) {
    if (fd != -1) fds[count++] = pollfd{fd, POLLIN, 0};
  }
  if (count == 0) return true;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  const int ready = ::poll(fds, count, static_cast<int>(left.count()));
  if (ready < 0 && errno == EINTR) return true;
  if (ready < 0) fail("poll");
  if (ready == 0) return false;
  for (nfds_t i = 0; i < count; ++i) {
    if (fds[i].revents == 0) continue;
    const bool is_stdout = fds[i].fd == stdout_fd_;
    char chunk[4096];
    const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
    if (n > 0) {
      (is_stdout ? stdout_ : stderr_).append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      close_fd(is_stdout ? stdout_fd_ : stderr_fd_);
    }
  }
  return true;
}

std::optional<std::string> piped_process::read_stdout_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const auto lf = stdout_.find('\n'); lf != std::string::npos) {
      std::string line = stdout_.substr(0, lf);
      stdout_.erase(0, lf + 1);
      return line;
    }
    if (stdout_fd_ == -1 || !pump(deadline)) return std::nullopt;
  }
}

std::optional<int> piped_process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (stdout_fd_ != -1 || stderr_fd_ != -1) {
    if (!pump(deadline)) return std::nullopt;
  }
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return WEXITSTATUS(status);
    }
    if (done < 0) fail("waitpid");
    // Both pipes are closed yet the child lives on: poll its exit briefly.
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    ::usleep(1000);
  }
}

}  // namespace chat::test
