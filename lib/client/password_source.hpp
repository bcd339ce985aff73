#pragma once

#include <termios.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "client/options.hpp"

namespace chat::client {

// Where chat-client's password comes from: --password-file, else the
// environment (CHAT_PASSWORD), else the person at the terminal when the
// server asks for one. Never from argv, where anyone on the machine can read
// it.

inline constexpr const char* password_variable = "CHAT_PASSWORD";

// The first line of `text` without its line end (LF or CRLF): what a
// password file holds. Empty when the file starts with a line end.
std::string first_line(std::string_view text);

// The password known before connecting: --password-file's first line, else
// `environment` (the value of CHAT_PASSWORD, null when unset; an empty value
// counts as unset); nullopt when neither gives one. A file that cannot be
// read, or whose first line is empty, is an error, returned as its text.
struct password_error {
  std::string message;
};
std::variant<std::optional<std::string>, password_error> initial_password(const options& opts,
                                                                          const char* environment);

// Turns off echo on a terminal for as long as it lives (a password being
// typed), keeping the newline's echo so that the next output starts on a
// line of its own. Does nothing for a descriptor that is not a terminal.
class echo_off {
public:
  explicit echo_off(int fd);
  ~echo_off() { restore(); }
  echo_off(const echo_off&) = delete;
  echo_off& operator=(const echo_off&) = delete;

  // Gives the terminal its settings back now; later calls do nothing.
  void restore() noexcept;
  // Whether echo was turned off (fd is a terminal).
  bool active() const noexcept { return active_; }

private:
  int fd_;
  bool active_ = false;
  // The settings to give back.
  termios saved_{};
};

}  // namespace chat::client
