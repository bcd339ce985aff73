#pragma once

#include "client/options.hpp"

namespace chat::client {

// chat-client itself. Connects, logs in (answering USER with --user or with
// a name read from standard input), then, on one thread, sends each line of
// standard input and prints each frame from the server until either side
// ends. A connection lost after login is made again (unless
// opts.reconnect is off): with backoff, the same name, and a hello that
// resumes every room after the last message shown there (see resume_state).
// Returns the process exit status:
//   0  input ended or /quit, and the server then closed the connection (or
//      it was away, and no message of ours went unconfirmed); with
//      --no-reconnect, also the server announcing its shutdown
//   1  first connection refused, TLS handshake or certificate refused,
//      login refused, input ended while away with messages unconfirmed;
//      with --no-reconnect, a connection lost or closed unasked
//   128 + N  ended by signal N (SIGINT, SIGTERM, SIGHUP) once connected
int run_terminal_session(const options& opts);

}  // namespace chat::client
