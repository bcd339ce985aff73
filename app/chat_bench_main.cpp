#include <unistd.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <variant>

#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/runner.hpp"

namespace {

// connect holds one descriptor per client; the soft limit is often far below
// what the hard limit allows.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chat::bench;
  const parsed_options parsed = parse_options(argc, argv);
  if (const auto* help = std::get_if<usage_text>(&parsed)) {
    std::fputs(help->text.c_str(), stdout);
    return 0;
  }
  if (const auto* error = std::get_if<usage_error>(&parsed)) {
    std::fprintf(stderr, "chat-bench: %s (--help shows usage)\n", error->message.c_str());
    return 2;
  }
  const options& opts = std::get<options>(parsed);
  raise_descriptor_limit();
  // A server that resets a connection must not kill the generator.
  std::signal(SIGPIPE, SIG_IGN);

  const bool show_progress = opts.progress.value_or(::isatty(STDERR_FILENO) == 1);
  bool progress_shown = false;
  std::size_t last_width = 0;
  const auto on_progress = [&](const progress& p) {
    std::string line = render_progress(p);
    const std::size_t width = line.size();
    // Blank out the rest of a longer previous line.
    if (width < last_width) line.append(last_width - width, ' ');
    last_width = width;
    std::fprintf(stderr, "\r%s", line.c_str());
    std::fflush(stderr);
    progress_shown = true;
  };

  report result;
  try {
    result = show_progress ? run(opts, on_progress) : run(opts);
  } catch (const std::exception& e) {
    if (progress_shown) std::fputc('\n', stderr);
    std::fprintf(stderr, "chat-bench: %s\n", e.what());
    return 1;
  }
  if (progress_shown) std::fputc('\n', stderr);

  if (opts.json_report) {
    std::printf("%s\n", render_json(result).c_str());
  } else {
    std::fputs(render_table(result).c_str(), stdout);
  }
  std::fflush(stdout);
  if (!result.ok()) {
    std::fputs(render_problems(result).c_str(), stderr);
    return 1;
  }
  return 0;
}
