#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/command_line.hpp"

namespace chat::bench {

enum class scenario {
  fanout,    // one sender, R receivers
  chatroom,  // N clients, each sending and receiving
  latency,   // one sender at a fixed rate, R receivers: percentiles
  connect,   // C clients connect and log in, then hold
};

std::string_view to_string(scenario which) noexcept;

// Background load beside the scenario (--churn KIND:RATE).
enum class churn_kind {
  none,
  joins,     // one client joins a room with history on disk, and leaves it
  logins,    // a new client connects, logs in as a guest and quits
  accounts,  // the same, logging in to an account with its password
};

std::string_view to_string(churn_kind which) noexcept;

// fanout, chatroom and latency send messages; connect only logs in.
bool sends_messages(scenario which) noexcept;

// chat-bench's command line, with each scenario's defaults already applied.
struct options {
  scenario which = scenario::fanout;
  std::string host = "127.0.0.1";
  // --port, repeatable: the nodes of one cluster on `host`. Senders connect
  // to the first; receivers are dealt round-robin over the others (over the
  // only one when there is one). See target_of().
  std::vector<std::uint16_t> ports{7777};
  bool json = false;  // JSON sessions instead of plain ones
  // JSON: senders put a ref on the messages stamped for latency and time
  // their acks (send to ack, in the same histogram form).
  bool acks = false;
  // TLS to the server's TLS port. Unverified unless ca_file is given: the
  // targets are our own servers with throwaway certificates.
  bool tls = false;
  // Every connection a WebSocket to /ws on --port (chat-server --http-port),
  // in JSON sessions; with tls, over TLS (chat-server --https-port).
  bool ws = false;
  std::string ca_file;
  // Checked against the certificate with ca_file, and sent as SNI; empty: host.
  std::string server_name;
  std::size_t payload = 64;
  // Per sender. fanout 100000, chatroom 10000, latency rate x duration.
  std::uint64_t messages = 0;
  // Messages a sender may have out before its probe receiver has seen them.
  std::uint64_t window = 1000;
  unsigned receivers = 10;                // fanout, latency
  unsigned clients = 0;                   // chatroom 20, connect 1000
  double rate = 1000;                     // latency: messages per second
  double duration_s = 5;                  // latency, when --messages is not given
  unsigned concurrency = 500;             // connects and logins in flight
  std::chrono::milliseconds hold{1000};   // connect: hold before reading RSS
  std::optional<int> server_pid;          // for its RSS and CPU time
  unsigned threads = 1;                   // generator threads
  double max_seconds = 60;                // the whole run, setup included
  std::chrono::milliseconds quiet{2000};  // no delivery for this long ends a run
  churn_kind churn = churn_kind::none;
  double churn_rate = 0;  // per second
  // joins: the rooms it goes round, each filled with this many messages of
  // --payload bytes first (the server's default --history), then left, so
  // that every join loads a room back from the disk.
  unsigned churn_rooms = 200;
  unsigned churn_history = 100;
  // accounts: how many it registers first and logs in to in turn.
  unsigned churn_accounts = 50;
  // nullopt: a progress line when standard error is a terminal.
  std::optional<bool> progress;
  bool json_report = false;  // one JSON object on stdout instead of the table
};

// Which of o.ports client `index` of a run connects to, as the runner casts
// them: fanout and latency, client 0 is the sender, on the first port, and
// the receivers after it go round-robin over the other ports (or the only
// one); chatroom (every client sends and receives) and connect go
// round-robin over all the ports.
std::size_t target_of(const options& o, std::size_t index) noexcept;

// The outcome of reading the command line: options to run with, text to
// print before exiting 0 (--help), or an error to print before exiting 2.
using cli::usage_error;
using cli::usage_text;
using parsed_options = std::variant<options, usage_text, usage_error>;

parsed_options parse_options(int argc, const char* const* argv);

}  // namespace chat::bench
