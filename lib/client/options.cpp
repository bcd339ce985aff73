#include "client/options.hpp"

#include <cstdint>
#include <string_view>

namespace chat::client {

namespace {

constexpr std::string_view usage =
    R"(usage: chat-client [--host HOST] [--port PORT] [--user NAME] [--json]
                   [--tls [--ca FILE | --insecure]] [--no-reconnect]
                   [--resume ROOM=ID]... [--password-file FILE] [--register]

Connects to a chat server, sends each line of standard input and prints what
the server sends, both at once.

  --host HOST  server address or name (default 127.0.0.1)
  --port PORT  server port, 1 to 65535 (default 7777)
  --user NAME  log in as NAME; without it the name is read from standard input
  --json       print each envelope as received, one per line; send input lines
               that start with { as they are, the others as messages
  --tls        connect with TLS (1.2 or later), checking that the server's
               certificate is for HOST and signed by an authority in the
               system's store; PORT is then the server's --tls-port
  --ca FILE    trust the authorities in FILE (PEM) instead of the system's
  --insecure   accept any certificate, for any name, and say so on stderr:
               encrypted, but anyone in between can pose as the server
               (--ca and --insecure need --tls; they do not imply it)
  --no-reconnect  exit when the connection is lost instead of reconnecting
  --resume ROOM=ID  at login, join ROOM and show every message it kept after
               id ID (repeatable), as reconnecting does
  --password-file FILE  log in to the account NAME with the password on the
               first line of FILE; without it the password is taken from the
               environment variable CHAT_PASSWORD, else asked (without echo on a
               terminal) when the server says the name is registered
  --register   create the account NAME at login, with that password (asked
               when neither gives one)
  --help       show this text

Reconnecting (the default): when the connection is lost after login (closed,
reset, dropped as a slow consumer, or the server shut down), the client says
so, waits 0.5s, doubling after each failed attempt up to 30s (each wait
shortened at random by up to half), connects again, logs in with the same
name (retrying while the server still holds the old session's name) and
resumes every room it was in after the last message it showed there: the
messages it missed are shown as [history], each once, and a line says when
the server no longer has some of them. The current room stays current. Lines
typed meanwhile are sent once it is back; /quit and the end of input while it
is away end the client. Whether a message sent just before the loss arrived
is unknown: the replay shows it if the server kept it. A first connection or
login that fails is not retried. With --json the client's own news goes to
stderr, and a replay's more markers are printed, though followed already.

Accounts: the password given is sent again at each reconnect. When the
account logs in elsewhere the server ends this session (session-replaced):
the client then says so and does not reconnect, so that two clients of one
account do not take the name from each other; nor does it after a wrong
password. A reconnect the server throttles (rate-limited) waits as long as
the server says.

Input lines: /join ROOM, /leave [ROOM], /rooms, /who [ROOM], /topic [TEXT],
/msg NAME TEXT, /nick NAME, /history [N], /resume ROOM ID, /register PASSWORD,
/password OLD NEW, /unregister PASSWORD, /quit and /help
(which explains them all) are commands; //text sends /text; any other line
is a message to the current room: the room joined last (leaving it makes the
one joined before it current again). Messages from the current room are
shown unmarked, those from other rooms as [#room], direct
messages as [dm] and messages from before you joined as [history]. A line
typed after /join or /leave is sent once the server has answered it. At the
end of the input the client leaves once the server has taken every line.

The server's keepalive pings are answered automatically and not shown, in
--json mode too: a script need not answer them. In --json mode lines that are
not requests go to the server's current room as they are.

Exit status: 0 after the end of input or /quit (also while reconnecting,
unless messages sent before the loss were never confirmed), or with
--no-reconnect a server shutdown; 1 when the server cannot be reached at
first, fails the TLS checks, refuses the name or the password, ends the session
as the account logged in elsewhere, or with --no-reconnect is lost;
2 for a bad command line; 128+N when stopped by signal N.
)";

constexpr std::string_view value_flags[] = {"--host", "--port",   "--user",
                                            "--ca",   "--resume", "--password-file"};

}  // namespace

parsed_options parse_options(int argc, const char* const* argv) {
  options result;
  bool tls = false;
  tls_options checks;
  // --ca or --insecure, whichever came last. Without --tls they are refused,
  // not taken to imply it: a command line says plainly whether it speaks TLS.
  std::string_view tls_only_flag;
  auto split = cli::split(argc, argv, value_flags);
  if (auto* error = std::get_if<usage_error>(&split)) return std::move(*error);
  for (const cli::argument& arg : std::get<std::vector<cli::argument>>(split)) {
    if (arg.flag == "--help" || arg.flag == "-h") return usage_text{std::string(usage)};
    if (arg.flag == "--json") {
      result.json = true;
    } else if (arg.flag == "--no-reconnect") {
      result.reconnect = false;
    } else if (arg.flag == "--resume") {
      const auto equals = arg.value.rfind('=');
      const auto id =
          equals == std::string_view::npos
              ? std::nullopt
              : cli::parse_number<std::uint64_t>(arg.value.substr(equals + 1), 0, UINT64_MAX);
      if (equals == 0 || !id) return cli::invalid_value(arg.flag, arg.value, "ROOM=ID");
      result.resume.emplace_back(std::string(arg.value.substr(0, equals)), *id);
    } else if (arg.flag == "--password-file") {
      if (arg.value.empty()) return cli::invalid_value(arg.flag, arg.value, "a file name");
      result.password_file = std::string(arg.value);
    } else if (arg.flag == "--register") {
      result.register_account = true;
    } else if (arg.flag == "--tls") {
      tls = true;
    } else if (arg.flag == "--ca") {
      checks.ca_file = arg.value;
      tls_only_flag = arg.flag;
    } else if (arg.flag == "--insecure") {
      checks.insecure = true;
      tls_only_flag = arg.flag;
    } else if (arg.flag == "--host") {
      result.host = arg.value;
    } else if (arg.flag == "--user") {
      result.user = std::string(arg.value);
    } else if (arg.flag == "--port") {
      const auto port = cli::parse_number<std::uint16_t>(arg.value, 1, 65535);
      if (!port) return cli::invalid_value(arg.flag, arg.value, "a number from 1 to 65535");
      result.port = *port;
    } else {
      return cli::unknown_option(arg.positional() ? arg.value : arg.flag);
    }
  }
  if (!tls_only_flag.empty() && !tls) {
    return usage_error{std::string(tls_only_flag) + " needs --tls"};
  }
  if (checks.insecure && !checks.ca_file.empty()) {
    return usage_error{"--ca and --insecure exclude each other: --insecure trusts any certificate"};
  }
  if (tls) result.tls = std::move(checks);
  return result;
}

}  // namespace chat::client
