#include "live_server.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>

#include "conformance/runner.hpp"
#include "conformance/transcript.hpp"
#include "data_dir.hpp"
#include "test_server.hpp"

namespace chat::conformance::test {

void check_transcript(const std::string& path, server_setup setup) {
  const transcript script = load_transcript(path);

  // A fresh server per transcript: names are free and nothing is left over.
  server::config config = chat::test::test_config();
  // handshake-timeout.chat waits for the server to give up on a silent
  // client; with the stock 30 s it would dominate the suite. The other
  // transcripts finish every handshake within milliseconds.
  config.handshake_timeout = std::chrono::seconds(3);
  // Removed after the server stops: declared before it.
  std::optional<chat::test::data_dir> dir;
  if (setup == server_setup::accounts) {
    dir.emplace();
    config.data_dir = dir->string();
    // The cheapest argon2id cost: the transcripts show the protocol, not the hash.
    config.password_ops = 1;
    config.password_memory = 8192;
  }
  chat::test::test_server server(config);

  const auto failed = run_transcript(script, "127.0.0.1", server.port());
  server.stop();
  if (failed) FAIL(format_failure(path, *failed));
}

}  // namespace chat::conformance::test
