#include "server/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace chat::server {

namespace {
std::atomic<log_level> current_level{log_level::info};

std::string_view label(log_level level) {
  switch (level) {
    case log_level::error: return "error";
    case log_level::warn: return "warn";
    case log_level::info: return "info";
    case log_level::debug: return "debug";
  }
  return "?";
}
}  // namespace

bool parse_log_level(std::string_view text, log_level& level) {
  for (auto candidate : {log_level::error, log_level::warn, log_level::info, log_level::debug}) {
    if (text == label(candidate)) {
      level = candidate;
      return true;
    }
  }
  return false;
}

void set_log_level(log_level level) { current_level.store(level, std::memory_order_relaxed); }

bool log_enabled(log_level level) { return level <= current_level.load(std::memory_order_relaxed); }

void write_log_line(log_level level, std::string_view line) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  // One fprintf per line: stdio locks the stream, so lines from threads never interleave.
  std::fprintf(stderr, "%s.%03dZ %-5s %.*s\n", stamp, static_cast<int>(millis), label(level).data(),
               static_cast<int>(line.size()), line.data());
}

}  // namespace chat::server
