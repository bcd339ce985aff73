#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/command_line.hpp"
#include "server/log.hpp"

namespace chat::server {

struct config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;  // 0 asks the kernel for a free port
  // Where TLS clients connect (same host), unset: no TLS. 0 picks a free port.
  std::optional<std::uint16_t> tls_port;
  // PEM files of the TLS certificate chain and its key (for --tls-port and
  // --https-port alike); read again on SIGHUP.
  std::string cert_file;
  std::string key_file;
  // Where browsers connect (same host): HTTP, upgraded to WebSocket at /ws,
  // with /healthz and /readyz beside it; unset: none. 0 picks a free port.
  std::optional<std::uint16_t> http_port;
  // What http_port serves, over TLS with cert_file (same host); unset: none.
  // 0 picks a free port.
  std::optional<std::uint16_t> https_port;
  // Origins whose pages may open a WebSocket ("*": any); empty: a page's
  // own origin only.
  std::vector<std::string> allowed_origins;
  unsigned threads = 0;  // 0: one per hardware thread
  std::size_t max_line = 4096;
  // Bytes a client may have queued but not yet read before it is dropped as a
  // slow consumer; bounds the memory one stalled reader can pin.
  std::size_t max_queue = 1 << 20;
  std::chrono::milliseconds handshake_timeout{30'000};
  // A drain (SIGTERM) closes the clients spread over this long; 0 at once.
  std::chrono::milliseconds drain{10'000};
  // With --http-port or --https-port: the bearer token POST /admin/drain must carry; empty:
  // no /admin/drain.
  std::string admin_token;
  // How long a closing connection may take to flush its last frames.
  std::chrono::milliseconds linger{2'000};
  log_level level = log_level::info;
  std::string default_room = "lobby";
  // Rooms over this many members do not announce joins and leaves, and join
  // replies count their members instead of listing them; 0: no limit.
  std::size_t presence_limit = 100;
  // Messages each room keeps for those who join later; 0 keeps none.
  std::size_t history = 100;
  // Where history survives restarts (SQLite); empty keeps it in memory only.
  std::string data_dir;
  // Whether each group commit waits for the disk (fdatasync): an ack then
  // survives a power cut, not only a crash of the process.
  enum class sync_mode { none, batch };
  sync_mode sync = sync_mode::batch;
  // Retention on disk: whole chunks go from the front past either bound;
  // 0 keeps everything.
  std::uint64_t history_max_bytes = 0;
  std::chrono::seconds history_max_age{0};
  // JSON clients silent this long are pinged, and dropped if still silent
  // after as long again; 0 turns pings off.
  std::chrono::milliseconds ping_interval{60'000};
  // Any client silent this long is dropped; 0 never drops.
  std::chrono::milliseconds idle_timeout{300'000};
  // Token bucket on messages per client: refill per second and burst; a rate
  // of 0 turns the limit off.
  double rate_limit = 10;
  double rate_burst = 20;
  // Accounts (kept under data_dir). A client must log in to an account;
  // passwords may cross plain TCP from other machines (TLS and loopback
  // always may); argon2id's cost per hash (libsodium's "interactive").
  bool require_account = false;
  bool allow_plaintext_passwords = false;
  std::uint64_t password_ops = 2;
  std::uint64_t password_memory = std::uint64_t{64} << 20;
  // Server operators: names of accounts (--operator, and the lines of
  // --operators-file). Operator power needs a login to the account.
  std::vector<std::string> operators;
  std::size_t max_clients = 10'000;
  std::size_t max_per_ip = 100;  // 0: no limit
};

// The outcome of reading the command line: a config to run, text to print
// and exit 0 (--help), or an error to print and exit non-zero.
using cli::usage_error;
using cli::usage_text;
using parsed_args = std::variant<config, usage_text, usage_error>;

parsed_args parse_args(int argc, const char* const* argv);

}  // namespace chat::server
