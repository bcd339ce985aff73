#include "live_server.hpp"

#include <catch2/catch.hpp>
#include <chrono>

#include "conformance/runner.hpp"
#include "conformance/transcript.hpp"
#include "test_server.hpp"

namespace chat::conformance::test {

void check_transcript(const std::string& path) {
  const transcript script = load_transcript(path);

  // A fresh server per transcript: names are free and nothing is left over.
  server::config config = chat::test::test_config();
  // handshake-timeout.chat waits for the server to give up on a silent
  // client; with the stock 30 s it would dominate the suite. The other
  // transcripts finish every handshake within milliseconds.
  config.handshake_timeout = std::chrono::seconds(3);
  chat::test::test_server server(config);

  const auto failed = run_transcript(script, "127.0.0.1", server.port());
  server.stop();
  if (failed) FAIL(format_failure(path, *failed));
}

}  // namespace chat::conformance::test
