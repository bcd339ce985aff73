#pragma once

#include <cstdint>
#include <optional>

namespace chat::bench {

// The server's resident memory (VmRSS in /proc/PID/status), in KiB.
std::optional<std::uint64_t> resident_kib(int pid);

// The CPU time (user + system) a process has used so far, in seconds.
std::optional<double> cpu_seconds(int pid);

// The same for this process, from getrusage: tells whether the generator or
// the server was the bottleneck.
double own_cpu_seconds();

}  // namespace chat::bench
