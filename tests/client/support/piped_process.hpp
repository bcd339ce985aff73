#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::test {

// A program run with pipes on its stdout and stderr and, unless a file is
// given, on its stdin. Every wait has a deadline and the destructor kills a
// child still running, so a client that hangs fails its test instead of
// stalling the suite.
class piped_process {
public:
  // `stdin_path`: open this file as the child's stdin instead of a pipe.
  explicit piped_process(const std::vector<std::string>& argv,
                         const std::optional<std::string>& stdin_path = std::nullopt);
  ~piped_process();
  piped_process(const piped_process&) = delete;
  piped_process& operator=(const piped_process&) = delete;

  void write_stdin(std::string_view bytes);
  void close_stdin();

  // The file status flags (O_NONBLOCK...) of the child's stdin pipe, which
  // it shares with us; nullopt when stdin is a file.
  std::optional<int> stdin_flags() const;

  void send_signal(int signal_number);

  // The next line of stdout without its LF; nullopt at EOF or past the deadline.
  std::optional<std::string> read_stdout_line(std::chrono::milliseconds timeout);

  // Waits for the child to exit, collecting the rest of its output. Returns
  // its exit status (128 + signal when killed by one), or nullopt when the
  // deadline passed (the child is then killed).
  std::optional<int> wait(std::chrono::milliseconds timeout);

  // Output collected so far and not returned by read_stdout_line.
  const std::string& stdout_text() const noexcept { return stdout_; }
  const std::string& stderr_text() const noexcept { return stderr_; }

private:
  // Moves whatever the child has written into the buffers, waiting until
  // something arrives or the deadline passes; false at the deadline.
  bool pump(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  // Our copy of the child's end of the stdin pipe, kept to read its flags.
  int stdin_child_end_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string stdout_;
  std::string stderr_;
};

}  // namespace chat::test
