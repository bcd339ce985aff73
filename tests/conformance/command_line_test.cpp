#include "conformance/command_line.hpp"

#include <catch2/catch.hpp>

namespace conf = chat::conformance;

namespace {
conf::parsed_args parse(std::vector<const char*> args) {
  args.insert(args.begin(), "chat-conformance");
  return conf::parse_args(static_cast<int>(args.size()), args.data());
}

std::string error_of(std::vector<const char*> args) {
  const auto parsed = parse(std::move(args));
  REQUIRE(std::holds_alternative<conf::usage_error>(parsed));
  return std::get<conf::usage_error>(parsed).message;
}
}  // namespace

TEST_CASE("chat-conformance reads host, port, timings and files", "[command-line]") {
  using namespace std::chrono_literals;
  const auto parsed = parse({"--host", "::1", "a.chat", "--port", "7000", "--timeout", "500",
                             "--quiet", "50", "-v", "b.chat"});
  REQUIRE(std::holds_alternative<conf::settings>(parsed));
  const auto& s = std::get<conf::settings>(parsed);
  CHECK(s.host == "::1");
  CHECK(s.port == 7000);
  CHECK(s.options.timeout == 500ms);
  CHECK(s.options.quiet == 50ms);
  CHECK(s.verbose);
  CHECK(s.files == std::vector<std::string>{"a.chat", "b.chat"});
}

TEST_CASE("chat-conformance defaults to the server's defaults", "[command-line]") {
  const auto parsed = parse({"a.chat"});
  REQUIRE(std::holds_alternative<conf::settings>(parsed));
  CHECK(std::get<conf::settings>(parsed).host == "127.0.0.1");
  CHECK(std::get<conf::settings>(parsed).port == 7777);
}

TEST_CASE("chat-conformance rejects bad arguments with a reason", "[command-line]") {
  CHECK(error_of({}) == "no transcript given");
  CHECK(error_of({"--port", "77777", "a.chat"}) ==
        "invalid --port '77777': expected a port, 1..65535");
  CHECK(error_of({"--port", "0", "a.chat"}) == "invalid --port '0': expected a port, 1..65535");
  CHECK(error_of({"--port=x", "a.chat"}) == "invalid --port 'x': expected a port, 1..65535");
  CHECK(error_of({"--timeout", "-5", "a.chat"}) ==
        "invalid --timeout '-5': expected milliseconds, 1..3600000");
  CHECK(error_of({"a.chat", "--host"}) == "--host needs a value");
  CHECK(error_of({"--verbose=yes", "a.chat"}) == "--verbose takes no value");
  CHECK(error_of({"--color", "a.chat"}) == "unknown option '--color' (see --help)");
  CHECK(std::holds_alternative<conf::usage_text>(parse({"a.chat", "--help"})));
}
