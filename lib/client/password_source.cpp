#include "client/password_source.hpp"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace chat::client {

std::string first_line(std::string_view text) {
  const std::size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return std::string(line);
}

std::variant<std::optional<std::string>, password_error> initial_password(const options& opts,
                                                                          const char* environment) {
  if (opts.password_file) {
    std::ifstream file(*opts.password_file, std::ios::binary);
    if (!file) {
      return password_error{"cannot read --password-file " + *opts.password_file + ": " +
                            std::strerror(errno)};
    }
    std::string line;
    std::getline(file, line);
    if (file.bad()) {
      return password_error{"cannot read --password-file " + *opts.password_file + ": " +
                            std::strerror(errno)};
    }
    line = first_line(line);
    if (line.empty()) {
      return password_error{"the first line of --password-file " + *opts.password_file +
                            " is empty: it is to hold the password"};
    }
    return std::optional<std::string>(std::move(line));
  }
  if (environment != nullptr && *environment != '\0') {
    return std::optional<std::string>(std::string(environment));
  }
  return std::optional<std::string>();
}

echo_off::echo_off(int fd) : fd_(fd) {
  if (::isatty(fd_) != 1 || ::tcgetattr(fd_, &saved_) != 0) return;
  termios settings = saved_;
  settings.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  settings.c_lflag |= ECHONL;
  // TCSANOW: what was typed ahead stays, to be read as the password.
  active_ = ::tcsetattr(fd_, TCSANOW, &settings) == 0;
}

void echo_off::restore() noexcept {
  if (!active_) return;
  active_ = false;
  ::tcsetattr(fd_, TCSANOW, &saved_);
}

}  // namespace chat::client
