#include <cstdio>
#include <variant>

#include "client/options.hpp"
#include "client/terminal_session.hpp"

int main(int argc, char** argv) {
  const auto parsed = chat::client::parse_options(argc, argv);
  if (const auto* help = std::get_if<chat::client::usage_text>(&parsed)) {
    std::fputs(help->text.c_str(), stdout);
    return 0;
  }
  if (const auto* error = std::get_if<chat::client::usage_error>(&parsed)) {
    std::fprintf(stderr, "chat-client: %s (--help shows usage)\n", error->message.c_str());
    return 2;
  }
  return chat::client::run_terminal_session(std::get<chat::client::options>(parsed));
}
