#include "bench/options.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bench/payload.hpp"

namespace chat::bench {

namespace {

constexpr std::string_view usage =
    R"(usage: chat-bench fanout|chatroom|latency|connect [options]

A load generator for the chat protocol. Every message carries the run's id,
its sender and a sequence number, so each receiver counts what it got and
what was lost, duplicated or reordered; any of those fails the run, loudly.

Scenarios:
  fanout    one sender, --receivers R receivers; deliveries/s
  chatroom  --clients N clients, each sending to all the others; deliveries/s
  latency   one sender at --rate messages/s to R receivers; latency p50, p90,
            p99, p99.9 and max
  connect   --clients C clients connect, log in and are held; connects+logins/s
            and, with --server-pid, the server's RSS per connection

Options:
  --host HOST         server address (default 127.0.0.1)
  --port PORT         server port (default 7777). Repeatable, for the nodes of
                      a cluster on --host: fanout and latency connect their
                      sender to the first port and deal the receivers
                      round-robin over the others, so what the receivers
                      count is what the cluster relayed between nodes;
                      chatroom, connect and --churn go round-robin over all
                      the ports. The same port given twice is two targets
  --json              JSON sessions (default: plain)
  --acks              with --json, fanout, chatroom and latency: the messages
                      stamped for latency (every 16th; latency: every one)
                      carry a "ref", and the time from send to the server's
                      ack is reported as ack latency p50, p99 and max; a
                      missing ack fails the run. With --data-dir the server
                      acks once the message is stored
  --tls               every connection over TLS 1.2 or 1.3; --port is then the
                      server's TLS port (chat-server --tls-port). The server's
                      certificate is NOT verified unless --ca is given: the
                      targets are our own servers with throwaway certificates.
                      connect counts the TLS handshake in connects+logins/s
  --ws                every connection a WebSocket to /ws on --port, which is
                      then the server's HTTP port (chat-server --http-port),
                      in JSON sessions; connect counts the upgrade. With
                      --tls, over TLS to the HTTPS port (--https-port)
  --ca FILE           with --tls: verify the server's certificate against the
                      CA certificates in FILE (PEM) and its name against
                      --server-name
  --server-name NAME  with --tls: the name sent as SNI and, with --ca, the name
                      the certificate must carry (default: --host)
  --payload BYTES     message text size, 64 to 1048576 (default 64); the
                      server's --max-line must hold it
  --messages N        messages per sender (default: fanout 100000, chatroom
                      10000, latency rate x duration)
  --window N          fanout, chatroom: messages a sender may have sent that
                      its probe receiver has not seen yet (default 1000)
  --receivers R       fanout and latency receivers (default 10)
  --clients N         chatroom clients (default 20), connect clients (1000)
  --rate N            latency: messages per second (default 1000)
  --duration SECONDS  latency: how long to send (default 5)
  --concurrency N     connects and logins in flight (default 500)
  --hold-ms MS        connect: how long to hold the clients before reading the
                      server's RSS (default 1000)
  --server-pid PID    the server's process, for its RSS and CPU time
  --churn KIND:RATE   background load on a thread of its own, RATE a second:
                      joins (one client joins one of 200 rooms it filled with
                      100 messages each and left, so each join loads a room
                      from the disk; run the server with --data-dir), logins
                      (a new client logs in as a guest and quits) or accounts
                      (the same with a password, to one of 50 accounts it
                      registers first; the server needs --data-dir); reported
                      beside the scenario's figures, with its answer latency
  --threads N         generator threads, one io_context each (default 1)
  --max-seconds S     bound on the whole run, setup included (default 60)
  --quiet-ms MS       end the run when no delivery came for this long
                      (default 2000); whatever is missing then is loss. So
                      too the warm-up: receivers it has not reached when no
                      more come closer for this long (at least 1 s) are
                      loss, and fail the run
  --progress          a live progress line on stderr even when it is not a
                      terminal (default: only on a terminal)
  --no-progress       no progress line
  --json-report       print one JSON object on stdout instead of the table
  --help              show this text

Counting: deliveries/s is the distinct messages received over the time from
the first send to the last delivery. A warm-up message reaches every receiver
before the clock starts. The fanout probe is the last receiver; in a chatroom
each client is the probe of the one before it.

Measure the server with its fair-use limits off, as other servers are measured
with their throttling off: chat-server --rate-limit 0 --max-per-ip 0. Per core,
pin both and give the server's pid:
  taskset -c 1 chat-server --threads 1 --rate-limit 0 --max-per-ip 0 &
  taskset -c 0 chat-bench fanout --receivers 100 --server-pid $!
connect opens one descriptor per client: raise `ulimit -n` first.

Exit status: 0 when every expected message arrived exactly once and in order;
1 on loss, duplicates, reordering, echoes, server errors, failed connections
or a run cut short by --max-seconds; 2 for a bad command line.
)";

using cli::parse_number;

std::optional<double> parse_positive(std::string_view text) {
  const auto value = cli::parse_decimal(text);
  if (!value || *value <= 0) return std::nullopt;
  return value;
}

std::optional<scenario> parse_scenario(std::string_view name) {
  for (const scenario s :
       {scenario::fanout, scenario::chatroom, scenario::latency, scenario::connect}) {
    if (name == to_string(s)) return s;
  }
  return std::nullopt;
}

constexpr std::string_view value_flags[] = {
    "--host",    "--port",        "--payload",  "--messages",    "--window",      "--receivers",
    "--clients", "--rate",        "--duration", "--concurrency", "--hold-ms",     "--server-pid",
    "--threads", "--max-seconds", "--quiet-ms", "--ca",          "--server-name", "--churn"};

// Applies one flag and its value; an error message when the value is bad.
std::optional<usage_error> apply(options& out, std::string_view flag, std::string_view value,
                                 bool& messages_given, bool& port_given) {
  constexpr auto u32_max = std::numeric_limits<std::uint32_t>::max();
  constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();
  if (flag == "--host") {
    out.host = value;
  } else if (flag == "--ca") {
    out.ca_file = value;
  } else if (flag == "--server-name") {
    out.server_name = value;
  } else if (flag == "--port") {
    const auto port = parse_number<unsigned>(value, 1, 65535);
    if (!port) return cli::invalid_value(flag, value, "1 to 65535");
    // The first --port replaces the default; each one after it adds a target.
    if (!port_given) out.ports.clear();
    port_given = true;
    out.ports.push_back(static_cast<std::uint16_t>(*port));
  } else if (flag == "--payload") {
    const auto size = parse_number<std::size_t>(value, min_payload, max_payload);
    if (!size) return cli::invalid_value(flag, value, "64 to 1048576");
    out.payload = *size;
  } else if (flag == "--messages") {
    const auto count = parse_number<std::uint64_t>(value, 1, u32_max);
    if (!count) return cli::invalid_value(flag, value, "1 to 4294967295");
    out.messages = *count;
    messages_given = true;
  } else if (flag == "--window") {
    const auto count = parse_number<std::uint64_t>(value, 1, u64_max);
    if (!count) return cli::invalid_value(flag, value, "a positive number");
    out.window = *count;
  } else if (flag == "--receivers" || flag == "--clients" || flag == "--concurrency") {
    const auto count = parse_number<unsigned>(value, 1, 1'000'000);
    if (!count) return cli::invalid_value(flag, value, "1 to 1000000");
    (flag == "--receivers" ? out.receivers
     : flag == "--clients" ? out.clients
                           : out.concurrency) = *count;
  } else if (flag == "--rate" || flag == "--duration" || flag == "--max-seconds") {
    const auto number = parse_positive(value);
    if (!number) return cli::invalid_value(flag, value, "a positive number");
    (flag == "--rate"       ? out.rate
     : flag == "--duration" ? out.duration_s
                            : out.max_seconds) = *number;
  } else if (flag == "--hold-ms" || flag == "--quiet-ms") {
    const auto ms = parse_number<unsigned>(value, flag == "--quiet-ms" ? 1 : 0, 3'600'000);
    if (!ms) return cli::invalid_value(flag, value, "milliseconds, up to 3600000");
    (flag == "--hold-ms" ? out.hold : out.quiet) = std::chrono::milliseconds(*ms);
  } else if (flag == "--server-pid") {
    const auto pid = parse_number<int>(value, 1, std::numeric_limits<int>::max());
    if (!pid) return cli::invalid_value(flag, value, "a process id");
    out.server_pid = *pid;
  } else if (flag == "--churn") {
    const std::size_t colon = value.find(':');
    const std::string_view kind = value.substr(0, colon);
    // 0 stands for a missing or bad rate.
    const double rate =
        colon == std::string_view::npos ? 0 : parse_positive(value.substr(colon + 1)).value_or(0);
    std::optional<churn_kind> which;
    for (const churn_kind k : {churn_kind::joins, churn_kind::logins, churn_kind::accounts}) {
      if (kind == to_string(k)) which = k;
    }
    if (!which || rate <= 0 || rate > 100'000) {
      return cli::invalid_value(flag, value,
                                "joins:RATE, logins:RATE or accounts:RATE, RATE up to 100000");
    }
    out.churn = *which;
    out.churn_rate = rate;
  } else if (flag == "--threads") {
    const auto count = parse_number<unsigned>(value, 1, 64);
    if (!count) return cli::invalid_value(flag, value, "1 to 64");
    out.threads = *count;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(scenario which) noexcept {
  switch (which) {
    case scenario::fanout: return "fanout";
    case scenario::chatroom: return "chatroom";
    case scenario::latency: return "latency";
    case scenario::connect: return "connect";
  }
  return "?";
}

std::string_view to_string(churn_kind which) noexcept {
  switch (which) {
    case churn_kind::none: return "none";
    case churn_kind::joins: return "joins";
    case churn_kind::logins: return "logins";
    case churn_kind::accounts: return "accounts";
  }
  return "?";
}

bool sends_messages(scenario which) noexcept { return which != scenario::connect; }

std::size_t target_of(const options& o, std::size_t index) noexcept {
  const std::size_t count = o.ports.size();
  if (count <= 1) return 0;
  if (o.which == scenario::fanout || o.which == scenario::latency) {
    return index == 0 ? 0 : 1 + (index - 1) % (count - 1);
  }
  return index % count;
}

parsed_options parse_options(int argc, const char* const* argv) {
  options result;
  bool scenario_given = false;
  bool messages_given = false;
  bool clients_given = false;
  bool port_given = false;
  auto split = cli::split(argc, argv, value_flags);
  if (auto* error = std::get_if<usage_error>(&split)) return std::move(*error);
  for (const cli::argument& arg : std::get<std::vector<cli::argument>>(split)) {
    if (arg.positional()) {
      const auto which = parse_scenario(arg.value);
      if (!which) return usage_error{"unknown scenario '" + std::string(arg.value) + "'"};
      if (scenario_given) return usage_error{"more than one scenario given"};
      result.which = *which;
      scenario_given = true;
    } else if (arg.flag == "--help" || arg.flag == "-h") {
      return usage_text{std::string(usage)};
    } else if (arg.flag == "--json") {
      result.json = true;
    } else if (arg.flag == "--tls") {
      result.tls = true;
    } else if (arg.flag == "--ws") {
      result.ws = true;
      result.json = true;
    } else if (arg.flag == "--acks") {
      result.acks = true;
    } else if (arg.flag == "--json-report") {
      result.json_report = true;
    } else if (arg.flag == "--progress") {
      result.progress = true;
    } else if (arg.flag == "--no-progress") {
      result.progress = false;
    } else if (std::find(std::begin(value_flags), std::end(value_flags), arg.flag) !=
               std::end(value_flags)) {
      if (arg.flag == "--clients") clients_given = true;
      auto error = apply(result, arg.flag, arg.value, messages_given, port_given);
      if (error) return *error;
    } else {
      return cli::unknown_option(arg.flag);
    }
  }
  if (!scenario_given) {
    return usage_error{"no scenario given: fanout, chatroom, latency or connect"};
  }
  if (!result.tls && (!result.ca_file.empty() || !result.server_name.empty())) {
    return usage_error{"--ca and --server-name need --tls"};
  }
  if (result.acks && !result.json) {
    return usage_error{"--acks needs --json: plain sessions get no acks"};
  }
  if (result.acks && !sends_messages(result.which)) {
    return usage_error{"--acks needs a scenario that sends messages"};
  }

  switch (result.which) {
    case scenario::fanout:
      if (!messages_given) result.messages = 100'000;
      break;
    case scenario::chatroom:
      if (!messages_given) result.messages = 10'000;
      if (!clients_given) result.clients = 20;
      if (result.clients < 2) return usage_error{"chatroom needs --clients 2 or more"};
      break;
    case scenario::latency:
      if (!messages_given) {
        const double count = std::ceil(result.rate * result.duration_s);
        if (count > 4294967295.0) return usage_error{"--rate x --duration is too many messages"};
        result.messages = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(count));
      }
      break;
    case scenario::connect:
      if (!clients_given) result.clients = 1000;
      break;
  }
  return result;
}

}  // namespace chat::bench
