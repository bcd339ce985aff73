#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cli/command_line.hpp"
#include "conformance/runner.hpp"

namespace chat::conformance {

// What chat-conformance was asked to do.
struct settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;
  run_options options;  // trace is left unset; verbose says whether to set it
  bool verbose = false;
  std::vector<std::string> files;
};

// The outcome of reading the command line: settings to run, text to print
// and exit 0 (--help), or an error to print and exit non-zero.
using cli::usage_error;
using cli::usage_text;
using parsed_args = std::variant<settings, usage_text, usage_error>;

parsed_args parse_args(int argc, const char* const* argv);

}  // namespace chat::conformance
