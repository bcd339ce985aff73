#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "support/piped_process.hpp"

namespace chat::test {

// How long a test waits for the client to say or do something: long enough
// for a sanitizer build on a busy machine.
inline constexpr std::chrono::seconds client_deadline{10};

// The chat-client binary, its stdin on a pipe (or on `stdin_path`), talking
// to the server on `port` with `extra` options.
piped_process start_client(std::uint16_t port, std::initializer_list<std::string> extra,
                           const std::optional<std::string>& stdin_path = std::nullopt);

// The client's next line of output; fails the test, showing its stderr,
// when none comes in time.
std::string next_line(piped_process& client);

// The next line, parsed: for --json clients.
nlohmann::json next_envelope(piped_process& client);

// Checks the exit status, showing the client's stderr when it is wrong.
void require_exit(piped_process& client, int expected);

}  // namespace chat::test
