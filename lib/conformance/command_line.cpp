#include "conformance/command_line.hpp"

#include <optional>
#include <string_view>

namespace chat::conformance {

namespace {

constexpr std::string_view help =
    R"(usage: chat-conformance [OPTIONS] TRANSCRIPT...

Runs each transcript against a live chat server and prints PASS or FAIL for
it; a failure names the first step that did not happen as written. Exits 0
when every transcript passed, 1 when one failed, 2 on a usage error.

Each transcript expects a fresh server of its own (default limits, nobody
connected, no history yet): start one per file, as the test suite does. The format is described in protocol/conformance/README.md.

options:
  --host HOST     server address (default 127.0.0.1)
  --port PORT     server port, 1..65535 (default 7777)
  --timeout MS    how long a step waits for what it expects (default 3000)
  --quiet MS      how long "receives nothing" listens (default 200)
  -v, --verbose   print every frame sent and received
  -h, --help      print this help
)";

constexpr std::string_view value_flags[] = {"--host", "--port", "--timeout", "--quiet"};

}  // namespace

parsed_args parse_args(int argc, const char* const* argv) {
  settings result;
  auto split = cli::split(argc, argv, value_flags);
  if (auto* error = std::get_if<usage_error>(&split)) return std::move(*error);
  for (const cli::argument& arg : std::get<std::vector<cli::argument>>(split)) {
    if (arg.positional()) {
      result.files.emplace_back(arg.value);
    } else if (arg.flag == "-h" || arg.flag == "--help") {
      return usage_text{std::string(help)};
    } else if (arg.flag == "-v" || arg.flag == "--verbose") {
      result.verbose = true;
    } else if (arg.flag == "--host") {
      result.host = std::string(arg.value);
    } else if (arg.flag == "--port") {
      const auto port = cli::parse_number<std::uint16_t>(arg.value, 1, 65535);
      if (!port) return cli::invalid_value(arg.flag, arg.value, "a port, 1..65535");
      result.port = *port;
    } else if (arg.flag == "--timeout" || arg.flag == "--quiet") {
      const auto ms = cli::parse_number<unsigned>(arg.value, 1, 3'600'000);
      if (!ms) return cli::invalid_value(arg.flag, arg.value, "milliseconds, 1..3600000");
      (arg.flag == "--timeout" ? result.options.timeout : result.options.quiet) =
          std::chrono::milliseconds(*ms);
    } else {
      return cli::unknown_option(arg.flag);
    }
  }
  if (result.files.empty()) return usage_error{"no transcript given"};
  return result;
}

}  // namespace chat::conformance
