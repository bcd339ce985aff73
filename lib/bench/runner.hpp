#pragma once

#include <functional>

#include "bench/options.hpp"
#include "bench/report.hpp"

namespace chat::bench {

// Runs one benchmark as `opts` says and reports what it measured. Blocks the
// caller, whose thread is one of the opts.threads generator threads. When set,
// `on_progress` is called on the caller's thread a few times a second.
report run(const options& opts, const std::function<void(const progress&)>& on_progress = {});

}  // namespace chat::bench
