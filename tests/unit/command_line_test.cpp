// The command-line conventions every program shares (lib/cli).

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/command_line.hpp"

namespace cli = chat::cli;

namespace {

constexpr std::string_view value_flags[] = {"--port", "--host"};

using split_result = std::variant<std::vector<cli::argument>, cli::usage_error>;

split_result split(std::vector<const char*> words) {
  words.insert(words.begin(), "program");
  return cli::split(static_cast<int>(words.size()), words.data(), value_flags);
}

std::vector<std::pair<std::string, std::string>> items(const split_result& result) {
  REQUIRE(std::holds_alternative<std::vector<cli::argument>>(result));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& arg : std::get<std::vector<cli::argument>>(result)) {
    out.emplace_back(arg.flag, arg.value);
  }
  return out;
}

std::string error_of(const split_result& result) {
  REQUIRE(std::holds_alternative<cli::usage_error>(result));
  return std::get<cli::usage_error>(result).message;
}

using pairs = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("cli::split reads values spaced or attached, bare flags and words in order", "[cli]") {
  CHECK(items(split({})).empty());
  CHECK(items(split({"--port", "7777", "--json", "file", "--host=::1", "-"})) ==
        pairs{{"--port", "7777"}, {"--json", ""}, {"", "file"}, {"--host", "::1"}, {"", "-"}});
  // A value may itself look like a flag or hold '='.
  CHECK(items(split({"--host", "--json", "--port=a=b"})) ==
        pairs{{"--host", "--json"}, {"--port", "a=b"}});
  // Unknown flags come through bare, for the program to name.
  CHECK(items(split({"--colour", "-v"})) == pairs{{"--colour", ""}, {"-v", ""}});
}

TEST_CASE("cli::split refuses a missing, empty or unexpected value", "[cli]") {
  CHECK(error_of(split({"file", "--port"})) == "--port needs a value");
  CHECK(error_of(split({"--port="})) == "--port needs a non-empty value");
  CHECK(error_of(split({"--host", ""})) == "--host needs a non-empty value");
  CHECK(error_of(split({"--json=yes"})) == "--json takes no value");
}

TEST_CASE("cli numbers are whole, in range and finite", "[cli]") {
  CHECK(cli::parse_number<std::uint16_t>("7777", 1, 65535) == 7777);
  CHECK(cli::parse_number<std::uint16_t>("65535", 1, 65535) == 65535);
  CHECK_FALSE(cli::parse_number<std::uint16_t>("77777", 1, 65535));  // the old teaching port
  CHECK_FALSE(cli::parse_number<std::uint16_t>("0", 1, 65535));
  CHECK_FALSE(cli::parse_number<unsigned>("-1", 0, 10));
  CHECK_FALSE(cli::parse_number<unsigned>("12abc", 0, 100));
  CHECK_FALSE(cli::parse_number<unsigned>(" 1", 0, 100));
  CHECK_FALSE(cli::parse_number<unsigned>("", 0, 100));
  CHECK(cli::parse_decimal("2.5") == 2.5);
  CHECK(cli::parse_decimal("-1") == -1);
  CHECK_FALSE(cli::parse_decimal("nan"));
  CHECK_FALSE(cli::parse_decimal("inf"));
  CHECK_FALSE(cli::parse_decimal("1e999"));
  CHECK_FALSE(cli::parse_decimal("1.5s"));
  CHECK(cli::invalid_value("--port", "77777", "1 to 65535").message ==
        "invalid --port '77777': expected 1 to 65535");
  CHECK(cli::unknown_option("--colour").message == "unknown option '--colour' (see --help)");
}
