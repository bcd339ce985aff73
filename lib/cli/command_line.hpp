#pragma once

#include <charconv>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// What every program of the project does the same way with its command line:
// `--flag VALUE` and `--flag=VALUE`, bare flags, positional words, bounded
// numbers, and the words of its complaints.
namespace chat::cli {

// Text to print before exiting 0 (--help).
struct usage_text {
  std::string text;
};
// A complaint to print before exiting 2.
struct usage_error {
  std::string message;
};

// One item of a command line: a flag with its value (empty for a flag that
// takes none), or a positional word (flag empty, value the word).
struct argument {
  std::string_view flag;
  std::string_view value;

  bool positional() const noexcept { return flag.empty(); }
};

// Splits argv[1..] into arguments. The flags named in `value_flags` take a
// value, as the next word or after `=`; any other word starting with '-' is a
// bare flag, which the caller knows or reports as unknown. Fails on a value
// flag with nothing after it, an empty value, or `=VALUE` on a bare flag.
std::variant<std::vector<argument>, usage_error> split(
    int argc, const char* const* argv, std::span<const std::string_view> value_flags);

// "unknown option '--colour'"
usage_error unknown_option(std::string_view flag);

// "invalid --port '77777': expected 1 to 65535"
usage_error invalid_value(std::string_view flag, std::string_view value, std::string_view expected);

// The whole of `text` as an integer in [low, high], or nothing.
template <class Number>
std::optional<Number> parse_number(std::string_view text, Number low, Number high) {
  Number value{};
  const char* const end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end || value < low || value > high) return std::nullopt;
  return value;
}

// The whole of `text` as a finite decimal number, or nothing.
std::optional<double> parse_decimal(std::string_view text);

}  // namespace chat::cli
