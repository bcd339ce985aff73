#include "cli/command_line.hpp"

#include <algorithm>
#include <cmath>

namespace chat::cli {

std::variant<std::vector<argument>, usage_error> split(
    int argc, const char* const* argv, std::span<const std::string_view> value_flags) {
  std::vector<argument> arguments;
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (!word.starts_with('-') || word == "-") {
      arguments.push_back({{}, word});
      continue;
    }
    std::optional<std::string_view> attached;
    if (const auto eq = word.find('='); word.starts_with("--") && eq != std::string_view::npos) {
      attached = word.substr(eq + 1);
      word = word.substr(0, eq);
    }
    const bool takes_value =
        std::find(value_flags.begin(), value_flags.end(), word) != value_flags.end();
    if (!takes_value) {
      if (attached) return usage_error{std::string(word) + " takes no value"};
      arguments.push_back({word, {}});
      continue;
    }
    std::string_view value;
    if (attached) {
      value = *attached;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return usage_error{std::string(word) + " needs a value"};
    }
    if (value.empty()) return usage_error{std::string(word) + " needs a non-empty value"};
    arguments.push_back({word, value});
  }
  return arguments;
}

usage_error unknown_option(std::string_view flag) {
  return {"unknown option '" + std::string(flag) + "' (see --help)"};
}

usage_error invalid_value(std::string_view flag, std::string_view value,
                          std::string_view expected) {
  return {"invalid " + std::string(flag) + " '" + std::string(value) + "': expected " +
          std::string(expected)};
}

std::optional<double> parse_decimal(std::string_view text) {
  double value = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace chat::cli
