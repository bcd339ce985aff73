#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cli/command_line.hpp"
#include "client/tls_options.hpp"

namespace chat::client {

// chat-client's command line.
struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;
  // Unset: the name is asked on standard input.
  std::optional<std::string> user;
  // Print raw envelopes and pass `{` lines through, for scripts.
  bool json = false;
  // Unset: plain TCP.
  std::optional<tls_options> tls;
  // After a lost connection, connect and log in again by itself, resuming
  // every room where it was (--no-reconnect turns it off).
  bool reconnect = true;
  // --resume ROOM=ID: rooms to join at the first login, replaying every
  // message after ID, in the order given.
  std::vector<std::pair<std::string, std::uint64_t>> resume;
  // --password-file FILE: its first line is the account's password. Unset:
  // CHAT_PASSWORD, else asked when the server wants one (see password_source).
  std::optional<std::string> password_file;
  // --register: the first hello creates the account (register:true).
  bool register_account = false;
};

// The outcome of reading the command line: options to run with, text to
// print before exiting 0 (--help), or an error to print before exiting 2.
using cli::usage_error;
using cli::usage_text;
using parsed_options = std::variant<options, usage_text, usage_error>;

parsed_options parse_options(int argc, const char* const* argv);

}  // namespace chat::client
