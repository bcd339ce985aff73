#include "client/options.hpp"

#include <charconv>
#include <string_view>

namespace chat::client {

namespace {

constexpr std::string_view usage =
    R"(usage: chat-client [--host HOST] [--port PORT] [--user NAME] [--json]

Connects to a chat server, sends each line of standard input and prints what
the server sends, both at once.

  --host HOST  server address or name (default 127.0.0.1)
  --port PORT  server port, 1 to 65535 (default 7777)
  --user NAME  log in as NAME; without it the name is read from standard input
  --json       print each envelope as received, one per line; send input lines
               that start with { as they are, the others as messages
  --help       show this text

Input lines: /join ROOM, /leave [ROOM], /rooms, /who [ROOM], /topic [TEXT],
/msg NAME TEXT, /nick NAME, /history [N], /quit and /help (which explains them
all) are commands; //text sends /text; any other line is a message to the
current room: the room joined last (leaving it makes the one joined before it
current again). Messages from the
current room are shown unmarked, those from other rooms as [#room], direct
messages as [dm] and messages from before you joined as [history]. A line
typed after /join or /leave is sent once the server has answered it. At the
end of the input the client leaves once the server has taken every line.

The server's keepalive pings are answered automatically and not shown, in
--json mode too: a script need not answer them. In --json mode lines that are
not requests go to the server's current room as they are.

Exit status: 0 after the end of input, /quit or a server shutdown; 1 when the
server cannot be reached, refuses the name or is lost; 2 for a bad command line;
128+N when stopped by signal N.
)";

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned long value = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end || value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

parsed_options parse_options(int argc, const char* const* argv) {
  options result;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    // Both `--port 7777` and `--port=7777`.
    std::optional<std::string_view> attached;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string_view::npos) {
      attached = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    const bool takes_value = flag == "--host" || flag == "--port" || flag == "--user";
    if (!takes_value && attached) {
      return usage_error{std::string(flag) + " takes no value"};
    }
    if (flag == "--help" || flag == "-h") return usage_text{std::string(usage)};
    if (flag == "--json") {
      result.json = true;
      continue;
    }
    if (!takes_value) return usage_error{"unknown option '" + std::string(argv[i]) + "'"};

    std::string_view value;
    if (attached) {
      value = *attached;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return usage_error{std::string(flag) + " needs a value"};
    }
    if (value.empty()) return usage_error{std::string(flag) + " needs a non-empty value"};

    if (flag == "--host") {
      result.host = value;
    } else if (flag == "--user") {
      result.user = std::string(value);
    } else if (const auto port = parse_port(value)) {
      result.port = *port;
    } else {
      return usage_error{"invalid --port '" + std::string(value) +
                         "': expected a number from 1 to 65535"};
    }
  }
  return result;
}

}  // namespace chat::client
