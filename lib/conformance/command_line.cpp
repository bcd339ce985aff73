#include "conformance/command_line.hpp"

#include <charconv>
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

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

parsed_args parse_args(int argc, const char* const* argv) {
  settings result;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") return usage_text{std::string(help)};
    if (arg == "-v" || arg == "--verbose") {
      result.verbose = true;
      continue;
    }
    if (!arg.starts_with('-')) {
      result.files.emplace_back(arg);
      continue;
    }
    if (arg != "--host" && arg != "--port" && arg != "--timeout" && arg != "--quiet") {
      return usage_error{"unknown option " + std::string(arg)};
    }
    if (i + 1 == argc) return usage_error{std::string(arg) + " needs a value"};
    const std::string_view value = argv[++i];
    if (arg == "--host") {
      result.host = std::string(value);
      continue;
    }
    const auto number = parse_number(value);
    if (arg == "--port") {
      if (!number || *number < 1 || *number > 65535) {
        return usage_error{"--port " + std::string(value) + " is not a port (1..65535)"};
      }
      result.port = static_cast<std::uint16_t>(*number);
    } else {
      if (!number || *number < 1 || *number > 3'600'000) {
        return usage_error{std::string(arg) + " " + std::string(value) +
                           " is not a number of milliseconds (1..3600000)"};
      }
      auto& target = arg == "--timeout" ? result.options.timeout : result.options.quiet;
      target = std::chrono::milliseconds(*number);
    }
  }
  if (result.files.empty()) return usage_error{"no transcript given"};
  return result;
}

}  // namespace chat::conformance
