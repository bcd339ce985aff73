// chat-conformance: runs protocol transcripts against a live chat server.
#include <exception>
#include <iostream>

#include "conformance/command_line.hpp"
#include "conformance/runner.hpp"
#include "conformance/transcript.hpp"

namespace {

namespace conf = chat::conformance;

// Prints PASS or FAIL for one transcript file; true when it passed.
bool run_file(const std::string& path, const conf::settings& s, const conf::run_options& options) {
  try {
    if (s.verbose) std::cout << "RUN  " << path << '\n';
    const conf::transcript script = conf::load_transcript(path);
    if (const auto failed = conf::run_transcript(script, s.host, s.port, options)) {
      std::cout << "FAIL " << conf::format_failure(path, *failed) << '\n';
      return false;
    }
    std::cout << "PASS " << path << '\n';
    return true;
  } catch (const conf::transcript_error& error) {
    std::cout << "FAIL " << error.what() << '\n';
    return false;
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  const conf::parsed_args parsed = conf::parse_args(argc, argv);
  if (const auto* help = std::get_if<conf::usage_text>(&parsed)) {
    std::cout << help->text;
    return 0;
  }
  if (const auto* error = std::get_if<conf::usage_error>(&parsed)) {
    std::cerr << "chat-conformance: " << error->message << " (see --help)\n";
    return 2;
  }
  const auto& s = std::get<conf::settings>(parsed);
  conf::run_options options = s.options;
  if (s.verbose) options.trace = &std::cout;

  try {
    int passed = 0;
    int failed = 0;
    for (const auto& path : s.files) {
      if (run_file(path, s, options)) {
        ++passed;
      } else {
        ++failed;
      }
    }
    std::cout << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "chat-conformance: " << error.what() << '\n';
    return 2;
  }
}
