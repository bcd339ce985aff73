#include "support/chat_client_run.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace chat::test {

piped_process start_client(std::uint16_t port, std::initializer_list<std::string> extra,
                           const std::optional<std::string>& stdin_path) {
  std::vector<std::string> argv{CHAT_CLIENT_PATH, "--port", std::to_string(port)};
  argv.insert(argv.end(), extra);
  return piped_process(argv, stdin_path);
}

std::string next_line(piped_process& client) {
  const auto line = client.read_stdout_line(client_deadline);
  INFO("stderr: " << client.stderr_text());
  REQUIRE(line);
  return *line;
}

nlohmann::json next_envelope(piped_process& client) {
  const std::string line = next_line(client);
  INFO(line);
  return nlohmann::json::parse(line);
}

void require_exit(piped_process& client, int expected) {
  const auto status = client.wait(client_deadline);
  INFO("stderr: " << client.stderr_text());
  REQUIRE(status == expected);
}

}  // namespace chat::test
