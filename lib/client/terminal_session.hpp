#pragma once

#include "client/options.hpp"

namespace chat::client {

// chat-client itself. Connects, logs in (answering USER with --user or with
// a name read from standard input), then, on one thread, sends each line of
// standard input and prints each frame from the server until either side
// ends. Returns the process exit status:
//   0  input ended or /quit, and the server then closed the connection; or
//      the server announced its shutdown
//   1  connection refused or lost, TLS handshake or certificate refused,
//      login refused, server closed unasked
//   128 + N  ended by signal N (SIGINT, SIGTERM, SIGHUP) once connected
int run_terminal_session(const options& opts);

}  // namespace chat::client
