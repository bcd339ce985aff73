#pragma once

#include <sstream>
#include <string_view>

namespace chat::server {

enum class log_level { error, warn, info, debug };

bool parse_log_level(std::string_view text, log_level& level);
void set_log_level(log_level level);
bool log_enabled(log_level level);
void write_log_line(log_level level, std::string_view line);

// Logs go to stderr, one line per call, so concurrent threads never interleave.
template <class... Parts>
void log(log_level level, const Parts&... parts) {
  if (!log_enabled(level)) return;
  std::ostringstream line;
  (line << ... << parts);
  write_log_line(level, line.view());
}

}  // namespace chat::server
