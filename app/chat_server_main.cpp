#include <cstdio>
#include <exception>
#include <variant>

#include "server/config.hpp"
#include "server/server.hpp"

int main(int argc, char** argv) {
  using namespace chat::server;
  const parsed_args args = parse_args(argc, argv);
  if (const auto* help = std::get_if<usage_text>(&args)) {
    std::fputs(help->text.c_str(), stdout);
    return 0;
  }
  if (const auto* error = std::get_if<usage_error>(&args)) {
    std::fprintf(stderr, "chat-server: %s\n", error->message.c_str());
    return 2;
  }
  try {
    server chat(std::get<config>(args));
    chat.stop_on_signals();
    chat.run();
  } catch (const setup_error& e) {
    std::fprintf(stderr, "chat-server: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
