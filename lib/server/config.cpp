#include "server/config.hpp"

#include "protocol/names.hpp"

#include <cmath>
#include <fstream>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string_view>
#include <vector>

namespace chat::server {

namespace {

constexpr std::string_view usage = R"(usage: chat-server [options]

  --host ADDRESS             address to listen on (default 127.0.0.1; ::1 and 0.0.0.0 work)
  --port PORT                TCP port, 1..65535, or 0 for any free port (default 7777)
  --tls-port PORT            also serve TLS (1.2 and 1.3) on this port, 0 for any free
                             one; needs --cert and --key. SIGHUP reloads both files
  --cert FILE                PEM certificate chain for TLS (the server's first)
  --key FILE                 PEM private key of --cert
  --http-port PORT           also serve HTTP on this port, 0 for any free one: WebSocket
                             at /ws (one JSON message per text message), /healthz, /readyz
  --https-port PORT          also serve what --http-port serves over TLS (wss://), 0 for
                             any free one; needs --cert and --key, as --tls-port does
  --admin-token TOKEN        with --http-port or --https-port: POST /admin/drain with
                             the header "Authorization: Bearer TOKEN" drains the server
  --drain-seconds SECS       on SIGTERM (or /admin/drain): stop accepting, tell every
                             client, and close them spread over this long (default
                             10); a second SIGTERM ends at once
  --allowed-origin ORIGIN    a web page's origin that may open a WebSocket, such as
                             https://chat.example.com, or * for any (repeatable;
                             default: only pages the server itself serves)
  --threads N                I/O threads (default: one per hardware thread)
  --max-line BYTES           longest accepted line (default 4096)
  --max-queue BYTES          output a client may leave unread before it is dropped
                             as a slow consumer (default 1048576)
  --handshake-timeout SECS   time a new client has to pick a name, the TLS handshake
                             included (default 30)
  --default-room NAME        room every client joins at login (default lobby)
  --presence-limit N         in rooms of more than N members, joins and leaves are
                             not announced and join replies give the member count
                             instead of the names (default 100; 0: no limit)
  --history N                messages each room keeps for newcomers (default 100; 0 keeps none)
  --data-dir DIR             keep history in DIR across restarts
                             (default: in memory only); a sender's ack then means
                             the message is stored. It grows by about 24 bytes plus
                             the sender and the text per message, plus an index row
                             per room per commit: some 10 MB per 100 000 messages
  --sync none|batch          with --data-dir: batch (the default) waits for the disk
                             (fdatasync) at every group commit, so acked messages
                             survive a power cut; none survives a crash of the
                             server only, for less latency on slow disks
  --history-max-bytes SIZE   with --data-dir: drop the oldest history past SIZE
                             bytes (suffix K, M, G or T; default 0: keep all)
  --history-max-age AGE      with --data-dir: drop history older than AGE (suffix
                             s, m, h or d; default 0: keep all)
  --require-account          with --data-dir: only registered names may log in
                             (/register, or {"type":"register"}, makes one)
  --allow-plaintext-passwords
                             take passwords over plain TCP from other machines too
                             (by default only over TLS or from this machine)
  --password-ops N           argon2id passes per password hash (default 2)
  --password-memory SIZE     argon2id memory per hash, suffix K, M or G (default
                             64M): each login in flight holds this much for some
                             tens of milliseconds, on 2 hashing threads at low priority
  --operator NAME            the account NAME is a server operator (repeatable): it
                             may moderate every room, /kill and /gban; needs --data-dir
  --operators-file FILE      server operators, one name per line (# starts a comment)
  --ping-interval SECS       ping JSON clients silent this long; drop them if still
                             silent after as long again (default 60; 0: never)
  --idle-timeout SECS        drop any client silent this long (default 300; 0: never)
  --rate-limit R/B           messages per second and burst per client (default 10/20;
                             0 turns the limit off, as benchmarks and load tests should)
  --max-clients N            connections served at once (default 10000)
  --max-per-ip N             connections from one address (default 100; 0: no limit)
  --log-level LEVEL          error, warn, info or debug (default info)
  --help                     show this text
)";

constexpr std::string_view room_rule = "expected 1 to 64 of A-Z a-z 0-9 _ . -";

// Reads an unsigned number within [low, high] or explains what is wrong with it.
std::optional<std::string> read_bounded(std::string_view flag, std::string_view text,
                                        unsigned long long low, unsigned long long high,
                                        unsigned long long& out) {
  const auto number = cli::parse_number(text, low, high);
  if (!number) {
    return cli::invalid_value(flag, text,
                              "a number in " + std::to_string(low) + ".." + std::to_string(high))
        .message;
  }
  out = *number;
  return std::nullopt;
}

std::optional<std::string> read_seconds(std::string_view flag, std::string_view text,
                                        std::chrono::milliseconds& out) {
  const auto parsed = cli::parse_decimal(text);
  if (!parsed || *parsed < 0 || *parsed > 86'400 * 365) {
    return cli::invalid_value(flag, text, "seconds, 0 or more").message;
  }
  const double seconds = *parsed;
  out = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  if (seconds > 0 && out.count() == 0) {
    return "invalid " + std::string(flag) + " '" + std::string(text) +
           "': below a millisecond (0 turns it off)";
  }
  return std::nullopt;
}

// "R/B", or "0" for no limit.
std::optional<std::string> read_rate(std::string_view text, double& rate, double& burst) {
  const auto error = "invalid --rate-limit '" + std::string(text) +
                     "': expected MESSAGES_PER_SECOND/BURST (like 10/20) or 0";
  if (text == "0") {
    rate = 0;
    return std::nullopt;
  }
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return error;
  const auto parsed_rate = cli::parse_decimal(text.substr(0, slash));
  const auto parsed_burst = cli::parse_decimal(text.substr(slash + 1));
  if (!parsed_rate || !parsed_burst || *parsed_rate < 0 || *parsed_burst < 1) return error;
  rate = *parsed_rate;
  burst = *parsed_burst;
  return std::nullopt;
}

// A number with an optional unit suffix: `units` maps each suffix to its factor.
std::optional<std::string> read_with_unit(
    std::string_view flag, std::string_view text,
    std::initializer_list<std::pair<char, std::uint64_t>> units, std::string_view expected,
    std::uint64_t& out) {
  std::string_view digits = text;
  std::uint64_t factor = 1;
  for (const auto& [suffix, value] : units) {
    if (!digits.empty() && (digits.back() == suffix || digits.back() == suffix - 'a' + 'A')) {
      digits.remove_suffix(1);
      factor = value;
      break;
    }
  }
  const auto number = cli::parse_number<std::uint64_t>(
      digits, 0, std::numeric_limits<std::uint64_t>::max() / factor);
  if (!number) return cli::invalid_value(flag, text, expected).message;
  out = *number * factor;
  return std::nullopt;
}

// One name per line; blank lines and what follows a # are ignored.
std::optional<std::string> read_operators_file(std::string_view flag, std::string_view file,
                                               std::vector<std::string>& out) {
  std::ifstream in{std::string(file)};
  if (!in) return "cannot read " + std::string(flag) + " '" + std::string(file) + "'";
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    std::string name = line.substr(first, last - first + 1);
    if (!protocol::is_valid_name(name)) {
      return std::string(flag) + " '" + std::string(file) + "' line " + std::to_string(number) +
             ": not a name: '" + name + "'";
    }
    out.push_back(std::move(name));
  }
  return std::nullopt;
}

}  // namespace

parsed_args parse_args(int argc, const char* const* argv) {
  config cfg;
  using setter = std::function<std::optional<std::string>(std::string_view flag, std::string_view)>;
  auto number_into = [](auto& field, unsigned long long low, unsigned long long high) {
    return [&field, low, high](std::string_view flag, std::string_view value) {
      unsigned long long parsed = 0;
      auto error = read_bounded(flag, value, low, high, parsed);
      if (!error) field = static_cast<std::remove_reference_t<decltype(field)>>(parsed);
      return error;
    };
  };
  // Into a std::uint16_t or a std::optional of one.
  auto port_into = [](auto& field) {
    return [&field](std::string_view flag, std::string_view value) -> std::optional<std::string> {
      const auto port = cli::parse_number<std::uint16_t>(value, 0, 65535);
      if (!port) {
        return cli::invalid_value(flag, value, "a TCP port in 1..65535 (or 0 for any free port)")
            .message;
      }
      field = *port;
      return std::nullopt;
    };
  };
  unsigned long long handshake_seconds = 30;
  const std::map<std::string_view, setter> flags = {
      {"--host",
       [&](std::string_view, std::string_view value) -> std::optional<std::string> {
         cfg.host = value;
         return std::nullopt;
       }},
      {"--port", port_into(cfg.port)},
      {"--tls-port", port_into(cfg.tls_port)},
      {"--http-port", port_into(cfg.http_port)},
      {"--https-port", port_into(cfg.https_port)},
      {"--allowed-origin",
       [&](std::string_view flag, std::string_view value) -> std::optional<std::string> {
         if (value != "*" && !value.starts_with("http://") && !value.starts_with("https://")) {
           return cli::invalid_value(flag, value,
                                     "an origin such as https://chat.example.com, or *")
               .message;
         }
         cfg.allowed_origins.emplace_back(value);
         return std::nullopt;
       }},
      {"--cert",
       [&](std::string_view flag, std::string_view value) -> std::optional<std::string> {
         if (value.empty()) return std::string(flag) + " needs a file";
         cfg.cert_file = value;
         return std::nullopt;
       }},
      {"--key",
       [&](std::string_view flag, std::string_view value) -> std::optional<std::string> {
         if (value.empty()) return std::string(flag) + " needs a file";
         cfg.key_file = value;
         return std::nullopt;
       }},
      {"--threads", number_into(cfg.threads, 1, 1024)},
      {"--max-line", number_into(cfg.max_line, 16, 16 << 20)},
      {"--max-queue", number_into(cfg.max_queue, 1024, 1ULL << 34)},
      {"--handshake-timeout", number_into(handshake_seconds, 1, 86'400)},
      {"--default-room",
       [&](std::string_view, std::string_view value) -> std::optional<std::string> {
         auto room = protocol::normalize_room_name(value);
         if (!room)
           return "invalid --default-room '" + std::string(value) + "': " + std::string(room_rule);
         cfg.default_room = std::move(*room);
         return std::nullopt;
       }},
      {"--presence-limit", number_into(cfg.presence_limit, 0, 10'000'000)},
      {"--history", number_into(cfg.history, 0, 1'000'000)},
      {"--data-dir",
       [&](std::string_view, std::string_view value) -> std::optional<std::string> {
         if (value.empty()) return "--data-dir needs a directory";
         cfg.data_dir = value;
         return std::nullopt;
       }},
      {"--sync",
       [&](std::string_view flag, std::string_view value) -> std::optional<std::string> {
         if (value == "none") {
           cfg.sync = config::sync_mode::none;
         } else if (value == "batch") {
           cfg.sync = config::sync_mode::batch;
         } else {
           return cli::invalid_value(flag, value, "none or batch").message;
         }
         return std::nullopt;
       }},
      {"--history-max-bytes",
       [&](std::string_view flag, std::string_view value) {
         return read_with_unit(
             flag, value,
             {{'k', 1ULL << 10}, {'m', 1ULL << 20}, {'g', 1ULL << 30}, {'t', 1ULL << 40}},
             "bytes, with an optional K, M, G or T", cfg.history_max_bytes);
       }},
      {"--history-max-age",
       [&](std::string_view flag, std::string_view value) {
         std::uint64_t seconds = 0;
         auto error = read_with_unit(flag, value, {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86'400}},
                                     "a duration like 90s, 30m, 12h or 7d", seconds);
         if (!error) cfg.history_max_age = std::chrono::seconds(seconds);
         return error;
       }},
      {"--ping-interval",
       [&](std::string_view flag, std::string_view value) {
         return read_seconds(flag, value, cfg.ping_interval);
       }},
      {"--drain-seconds",
       [&](std::string_view flag, std::string_view value) {
         return read_seconds(flag, value, cfg.drain);
       }},
      {"--admin-token",
       [&](std::string_view flag, std::string_view value) -> std::optional<std::string> {
         if (value.size() < 16) {
           return std::string(flag) + " needs a token of 16 characters or more";
         }
         cfg.admin_token = value;
         return std::nullopt;
       }},
      {"--idle-timeout",
       [&](std::string_view flag, std::string_view value) {
         return read_seconds(flag, value, cfg.idle_timeout);
       }},
      {"--rate-limit",
       [&](std::string_view, std::string_view value) {
         return read_rate(value, cfg.rate_limit, cfg.rate_burst);
       }},
      {"--password-ops", number_into(cfg.password_ops, 1, 10)},
      {"--password-memory",
       [&](std::string_view flag, std::string_view value) -> std::optional<std::string> {
         auto error =
             read_with_unit(flag, value, {{'k', 1ULL << 10}, {'m', 1ULL << 20}, {'g', 1ULL << 30}},
                            "bytes, with an optional K, M or G", cfg.password_memory);
         if (!error && (cfg.password_memory < 8192 || cfg.password_memory > (4ULL << 30))) {
           return cli::invalid_value(flag, value, "8K to 4G").message;
         }
         return error;
       }},
      {"--operator",
       [&](std::string_view flag, std::string_view value) -> std::optional<std::string> {
         if (!protocol::is_valid_name(value)) {
           return cli::invalid_value(flag, value, "a name (1 to 32 of A-Z a-z 0-9 _ . -)").message;
         }
         cfg.operators.emplace_back(value);
         return std::nullopt;
       }},
      {"--operators-file",
       [&](std::string_view flag, std::string_view value) {
         return read_operators_file(flag, value, cfg.operators);
       }},
      {"--max-clients", number_into(cfg.max_clients, 1, 10'000'000)},
      {"--max-per-ip", number_into(cfg.max_per_ip, 0, 10'000'000)},
      {"--log-level",
       [&](std::string_view, std::string_view value) -> std::optional<std::string> {
         if (parse_log_level(value, cfg.level)) return std::nullopt;
         return "invalid --log-level '" + std::string(value) +
                "': expected error, warn, info or debug";
       }},
  };

  std::vector<std::string_view> value_flags;
  for (const auto& [flag, set] : flags) value_flags.push_back(flag);
  auto split = cli::split(argc, argv, value_flags);
  if (auto* error = std::get_if<usage_error>(&split)) return std::move(*error);
  for (const cli::argument& arg : std::get<std::vector<cli::argument>>(split)) {
    if (arg.flag == "--help" || arg.flag == "-h") return usage_text{std::string(usage)};
    if (arg.flag == "--require-account") {
      cfg.require_account = true;
      continue;
    }
    if (arg.flag == "--allow-plaintext-passwords") {
      cfg.allow_plaintext_passwords = true;
      continue;
    }
    const auto flag = flags.find(arg.flag);
    if (flag == flags.end()) return cli::unknown_option(arg.positional() ? arg.value : arg.flag);
    if (auto error = flag->second(arg.flag, arg.value)) return usage_error{std::move(*error)};
  }
  cfg.handshake_timeout = std::chrono::seconds(handshake_seconds);
  if (cfg.tls_port && (cfg.cert_file.empty() || cfg.key_file.empty())) {
    return usage_error{"--tls-port needs --cert FILE and --key FILE"};
  }
  if (cfg.https_port && (cfg.cert_file.empty() || cfg.key_file.empty())) {
    return usage_error{"--https-port needs --cert FILE and --key FILE"};
  }
  if (cfg.data_dir.empty() && (cfg.history_max_bytes != 0 || cfg.history_max_age.count() != 0)) {
    return usage_error{"--history-max-bytes and --history-max-age need --data-dir"};
  }
  if (cfg.data_dir.empty() && cfg.require_account) {
    return usage_error{"--require-account needs --data-dir, where accounts are kept"};
  }
  if (cfg.data_dir.empty() && !cfg.operators.empty()) {
    return usage_error{"--operator and --operators-file need --data-dir, where accounts are kept"};
  }
  const bool serves_http = cfg.http_port || cfg.https_port;
  if (!serves_http && !cfg.admin_token.empty()) {
    return usage_error{
        "--admin-token is for POST /admin/drain: give --http-port or --https-port too"};
  }
  if (!serves_http && !cfg.allowed_origins.empty()) {
    return usage_error{"--allowed-origin is for WebSocket: give --http-port or --https-port too"};
  }
  if (!cfg.tls_port && !cfg.https_port && (!cfg.cert_file.empty() || !cfg.key_file.empty())) {
    return usage_error{"--cert and --key are for TLS: give --tls-port or --https-port too"};
  }
  return cfg;
}

}  // namespace chat::server
