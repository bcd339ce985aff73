#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/runner.hpp"
#include "faulty_server.hpp"
#include "test_pki.hpp"
#include "test_server.hpp"
#ifdef CHAT_BENCH_BINARY
#include "child_process.hpp"
#endif
#include "data_dir.hpp"

namespace {

using namespace chat::bench;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

// The real server with its fair-use limits off, as benchmarks run it.
chat::server::config bench_config() {
  chat::server::config config = chat::test::test_config();
  config.rate_limit = 0;
  config.max_per_ip = 0;
  return config;
}

// The same with a TLS port beside the plain one, presenting a certificate for
// localhost that `pki` issues,
// and an HTTP port for WebSocket.
chat::server::config tls_bench_config(chat::test::test_pki& pki) {
  const chat::test::key_pair certificate = pki.issue("bench server");
  chat::server::config config = chat::test::with_https(
      certificate, chat::test::with_http(chat::test::with_tls(certificate, bench_config())));
  // Room for the largest messages the runs send.
  config.max_line = 128 * 1024;
  // As scripts/bench runs it: a receiver that the machine starves for a
  // moment is behind, not a slow consumer. With 1 MiB, a window of 64
  // messages of 100 KiB dropped receivers now and then.
  config.max_queue = 64 << 20;
  return config;
}

options small(scenario which, std::uint16_t port) {
  options o;
  o.which = which;
  o.ports = {port};
  o.progress = false;
  o.max_seconds = 20;
  o.quiet = 2000ms;
  o.receivers = 5;
  o.clients = 4;
  o.messages = 1000;
  o.window = 64;
  return o;
}

std::string explain(const report& r) { return render_table(r) + render_problems(r); }

void check_clean(const report& r, std::uint64_t expected) {
  INFO(explain(r));
  CHECK(r.ok());
  CHECK(r.connections_failed == 0);
  CHECK(r.logged_in == r.connections);
  CHECK(r.expected == expected);
  CHECK(r.received == expected);
  CHECK(r.lost == 0);
  CHECK(r.duplicates == 0);
  CHECK(r.reordered == 0);
  CHECK(r.echoes == 0);
  CHECK(r.malformed == 0);
  CHECK(r.server_errors == 0);
  CHECK(r.deliveries_per_s > 0);
  CHECK(r.elapsed_s > 0);
  CHECK(r.latency_samples > 0);
}

}  // namespace

TEST_CASE("fanout to the real server: every delivery once, in order", "[bench][server]") {
  chat::test::test_pki pki;
  chat::test::test_server server(tls_bench_config(pki));
  options o = small(scenario::fanout, server.port());
  SECTION("plain") {}
  SECTION("json") { o.json = true; }
  SECTION("plain, two generator threads") { o.threads = 2; }
  SECTION("json, a window of one message") {
    o.json = true;
    o.window = 1;
    o.messages = 200;
  }
  SECTION("plain, over TLS") {
    o.tls = true;
    o.ports = {server.tls_port()};
  }
  SECTION("json, over TLS, two generator threads") {
    o.tls = true;
    o.ports = {server.tls_port()};
    o.json = true;
    o.threads = 2;
  }
  SECTION("over WebSocket, two generator threads") {
    o.ws = true;
    o.json = true;
    o.ports = {server.http_port()};
    o.threads = 2;
  }
  SECTION("over WebSocket, messages of 100 KiB") {
    // Frames with 8-byte lengths, each cut across many reads.
    o.ws = true;
    o.json = true;
    o.ports = {server.http_port()};
    o.payload = 100 * 1024;
    o.messages = 50;
  }
  SECTION("over WebSocket over TLS, messages of 100 KiB") {
    // Frames across TLS records, and records that a read leaves behind.
    o.ws = true;
    o.tls = true;
    o.json = true;
    o.ports = {server.https_port()};
    o.payload = 100 * 1024;
    o.messages = 50;
  }
  const report r = run(o);
  check_clean(r, std::uint64_t{o.receivers} * o.messages);
  CHECK(r.sent == o.messages);
  CHECK(r.tls == o.tls);
  server.stop();
}

TEST_CASE("chatroom on the real server: everyone gets everyone else's", "[bench][server]") {
  chat::test::test_pki pki;
  chat::test::test_server server(tls_bench_config(pki));
  options o = small(scenario::chatroom, server.port());
  o.messages = 500;
  SECTION("json, one thread") { o.json = true; }
  SECTION("plain, two threads") { o.threads = 2; }
  SECTION("plain, over TLS") {
    o.tls = true;
    o.ports = {server.tls_port()};
  }
  SECTION("json, over TLS, two threads") {
    o.tls = true;
    o.ports = {server.tls_port()};
    o.json = true;
    o.threads = 2;
  }
  SECTION("over WebSocket") {
    o.ws = true;
    o.json = true;
    o.ports = {server.http_port()};
  }
  SECTION("over WebSocket over TLS, two threads") {
    o.ws = true;
    o.tls = true;
    o.json = true;
    o.ports = {server.https_port()};
    o.threads = 2;
  }
  const report r = run(o);
  check_clean(r, std::uint64_t{o.clients} * (o.clients - 1) * o.messages);
  server.stop();
}

TEST_CASE("three --port targets that are one server: every delivery once, in order",
          "[bench][server][targets]") {
  chat::test::test_pki pki;
  chat::test::test_server server(tls_bench_config(pki));
  options o = small(scenario::fanout, server.port());
  o.receivers = 6;
  o.messages = 500;
  SECTION("fanout, plain") {}
  SECTION("fanout over WebSocket, two threads") {
    o.ws = true;
    o.json = true;
    o.ports = {server.http_port()};
    o.threads = 2;
  }
  SECTION("latency, json") {
    o.which = scenario::latency;
    o.json = true;
    o.rate = 2000;
    o.messages = 200;
  }
  SECTION("chatroom, json") {
    o.which = scenario::chatroom;
    o.json = true;
  }
  const std::uint16_t port = o.ports.front();
  o.ports = {port, port, port};
  const report r = run(o);
  const bool room = o.which == scenario::chatroom;
  check_clean(r, room ? std::uint64_t{o.clients} * (o.clients - 1) * o.messages
                      : std::uint64_t{o.receivers} * o.messages);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  CHECK(r.target == (room ? "round-robin " + address + " " + address + " " + address
                          : "senders " + address + ", receivers " + address + " " + address));
  CHECK_THAT(render_table(r), Contains(r.target));
  CHECK(nlohmann::json::parse(render_json(r))["target"] == r.target);
  server.stop();
}

TEST_CASE("senders on one server, receivers on another: the loss is loud",
          "[bench][server][targets]") {
  // Two servers that relay nothing to each other (no cluster yet): what the
  // senders send on A never reaches the receivers on B.
  chat::test::test_server a(bench_config());
  chat::test::test_server b(bench_config());
  options o = small(scenario::fanout, a.port());
  o.quiet = 500ms;
  o.receivers = 5;
  std::uint64_t on_b = 0;
  SECTION("every receiver on B") {
    o.ports = {a.port(), b.port()};
    on_b = 5;
  }
  SECTION("receivers on B and on A in turn") {
    // Receivers 1 to 5 go B, A, B, A, B: those on A get the warm-up.
    o.ports = {a.port(), b.port(), a.port()};
    on_b = 3;
  }
  SECTION("latency, every receiver on B") {
    o.which = scenario::latency;
    o.ports = {a.port(), b.port()};
    on_b = 5;
  }
  const report r = run(o);
  INFO(explain(r));
  CHECK_FALSE(r.ok());
  // Everyone connected and logged in: the receivers on B really are on B.
  CHECK(r.connections_failed == 0);
  CHECK(r.logged_in == r.connections);
  CHECK(r.connections == 6);
  CHECK_FALSE(r.time_limit);
  CHECK(r.warm_up_missing == on_b);
  CHECK(r.warm_up_receivers == 5);
  CHECK_THAT(r.warm_up_first_missing, Contains("on port " + std::to_string(b.port())));
  CHECK_THAT(render_problems(r),
             Contains("RUN FAILED") && Contains("LOSS: the warm-up message never reached " +
                                                std::to_string(on_b) + " of 5 receivers"));
  CHECK_THAT(r.target, Contains("senders 127.0.0.1:" + std::to_string(a.port())) &&
                           Contains("receivers 127.0.0.1:" + std::to_string(b.port())));
  const auto json = nlohmann::json::parse(render_json(r));
  CHECK(json["ok"] == false);
  CHECK(json["warm_up_missing"] == on_b);
  a.stop();
  b.stop();
}

TEST_CASE("latency on the real server: percentiles of every delivery", "[bench][server]") {
  chat::test::test_server server(bench_config());
  options o = small(scenario::latency, server.port());
  o.receivers = 3;
  o.rate = 2000;
  o.messages = 200;  // 0.1 s
  const report r = run(o);
  check_clean(r, 600);
  CHECK(r.latency_samples == 600);  // each message is stamped at a fixed rate
  CHECK(r.p50_ns > 0);
  CHECK(r.p50_ns <= r.p90_ns);
  CHECK(r.p90_ns <= r.p99_ns);
  CHECK(r.p99_ns <= r.p999_ns);
  CHECK(r.p999_ns <= r.max_ns);
  // 200 messages at 2000/s cannot take much less than 0.1 s.
  CHECK(r.elapsed_s >= 0.09);
  server.stop();
}

TEST_CASE("connect on the real server: logins counted, memory read", "[bench][server]") {
  chat::test::test_pki pki;
  chat::test::test_server server(tls_bench_config(pki));
  options o = small(scenario::connect, server.port());
  o.clients = 200;
  o.concurrency = 50;
  o.hold = 0ms;
  o.json = GENERATE(false, true);
  // Over TLS the handshakes are part of connecting; over WebSocket the
  // upgrades, and the sessions are JSON.
  const std::string over = GENERATE("tcp", "tls", "websocket", "websocket-tls");
  o.tls = over == "tls" || over == "websocket-tls";
  o.ws = over == "websocket" || over == "websocket-tls";
  if (o.ws) o.json = true;
  if (over == "tls") o.ports = {server.tls_port()};
  if (over == "websocket") o.ports = {server.http_port()};
  if (over == "websocket-tls") o.ports = {server.https_port()};
  // The server runs in this process: its RSS is ours.
  o.server_pid = static_cast<int>(::getpid());
  const report r = run(o);
  INFO(explain(r));
  CHECK(r.ok());
  CHECK(r.logged_in == 200);
  CHECK(r.connects_per_s > 0);
  CHECK(r.setup_s > 0);
  CHECK(r.rss_before_kib.has_value());
  CHECK(r.rss_after_kib.has_value());
  CHECK(r.rss_per_connection_kib.has_value());
  CHECK(r.server_cpu_s.has_value());
  server.stop();
}

TEST_CASE("TLS: what a full read leaves in the TLS stream is read too", "[bench][server][tls]") {
  chat::test::test_pki pki;
  chat::server::config config = tls_bench_config(pki);
  config.max_line = 32 * 1024;
  config.history = 100;
  config.max_queue = 64 << 20;  // room for the history at login
  chat::test::test_server server(config);
  options o = small(scenario::fanout, server.tls_port());
  o.tls = true;
  o.payload = 20'000;
  o.receivers = 1;
  o.messages = 100;
  check_clean(run(o), 100);
  // Each new client gets those messages as history, 2 MB, at once: reads
  // fill the buffer, and may leave records in the TLS stream that the socket
  // will not signal again, so the reader reads on without waiting for it.
  // Nothing comes after the history: whatever stayed behind would be missing.
  o.which = scenario::connect;
  o.clients = 10;
  o.hold = 0ms;
  const report r = run(o);
  INFO(explain(r));
  CHECK(r.ok());
  CHECK(r.foreign == 10 * 100);
  server.stop();
}

TEST_CASE("TLS against a plain port fails at once, saying why", "[bench][server][tls]") {
  chat::test::test_server server(bench_config());
  options o = small(scenario::fanout, server.port());
  o.tls = true;
  o.receivers = 1;
  const auto start = std::chrono::steady_clock::now();
  const report r = run(o);
  // Well before --max-seconds: the handshake fails, it does not hang.
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  INFO(explain(r));
  CHECK_FALSE(r.ok());
  CHECK(r.connections_failed > 0);
  CHECK_THAT(r.first_failure, Contains("TLS handshake failed") && Contains("TLS port"));
}

TEST_CASE("with --ca the certificate and its name are verified", "[bench][server][tls]") {
  chat::test::test_pki pki;
  chat::test::test_server server(tls_bench_config(pki));
  options o = small(scenario::connect, server.tls_port());
  o.tls = true;
  o.clients = 3;
  o.hold = 0ms;
  o.ca_file = pki.ca_file();
  SECTION("issued by the CA, for the name asked for") {
    o.server_name = "localhost";
    const report r = run(o);
    INFO(explain(r));
    CHECK(r.ok());
    CHECK(r.logged_in == 3);
  }
  SECTION("issued by another CA") {
    o.server_name = "localhost";
    o.ca_file = pki.self_signed("stranger").cert_file;
    const report r = run(o);
    CHECK_FALSE(r.ok());
    CHECK_THAT(r.first_failure,
               Contains("certificate verify failed") && Contains("(certificate: "));
  }
  SECTION("for another name") {
    o.server_name = "chat.example";
    const report r = run(o);
    CHECK_FALSE(r.ok());
    CHECK_THAT(r.first_failure, Contains("hostname mismatch"));
  }
  SECTION("checked against --host by default, here an address the certificate lacks") {
    const report r = run(o);
    CHECK_FALSE(r.ok());
    CHECK_THAT(r.first_failure, Contains("IP address mismatch"));
  }
  server.stop();
}

TEST_CASE("a run against nothing fails with the reason", "[bench]") {
  std::uint16_t port = 0;
  {
    // A port that was free a moment ago.
    chat::test::test_server server(bench_config());
    port = server.port();
    server.stop();
  }
  options o = small(scenario::fanout, port);
  o.receivers = 1;
  const report r = run(o);
  CHECK_FALSE(r.ok());
  CHECK(r.connections_failed > 0);
  CHECK(r.first_failure.find("cannot connect") != std::string::npos);
}

TEST_CASE("against a faulty server the counts are exactly what it did", "[bench][faulty]") {
  chat::test::faulty_server server(11, 480);
  options o = small(scenario::fanout, server.port());
  o.messages = 500;
  o.quiet = 300ms;  // the dropped messages never come
  // Each fault hits one login slot in four: with this many clients every
  // fault has receivers, whichever slot the sender takes.
  SECTION("fanout, plain") { o.receivers = 8; }
  SECTION("chatroom, json") {
    o.which = scenario::chatroom;
    o.json = true;
    o.clients = 5;
  }
  const report r = run(o);
  const auto injected = server.injected();
  INFO(explain(r));
  REQUIRE(injected.dropped > 0);
  REQUIRE(injected.duplicated > 0);
  REQUIRE(injected.reordered > 0);
  REQUIRE(injected.foreign > 0);
  CHECK(r.lost == injected.dropped);
  CHECK(r.duplicates == injected.duplicated);
  CHECK(r.reordered == injected.reordered);
  CHECK(r.foreign == injected.foreign);
  CHECK(r.received + r.lost == r.expected);
  CHECK(r.connections_failed == 0);
  CHECK(r.malformed == 0);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.worst_receivers.empty());
}

#ifdef CHAT_BENCH_BINARY
TEST_CASE("chat-bench exits 1 and says so loudly when messages go missing", "[bench][binary]") {
  chat::test::faulty_server server(11, 180);
  chat::test::child_process bench(
      // Eight receivers: whichever login slot the sender takes, every fault
      // still has a receiver to hit.
      CHAT_BENCH_BINARY, {"fanout", "--port", std::to_string(server.port()), "--receivers", "8",
                          "--messages", "200", "--quiet-ms", "300", "--max-seconds", "20"});
  CHECK(bench.wait(20s) == 1);
  const std::string& output = bench.output();
  INFO(output);
  CHECK(output.find("RUN FAILED") != std::string::npos);
  CHECK(output.find("LOSS: ") != std::string::npos);
  CHECK(output.find("DUPLICATES: ") != std::string::npos);
  CHECK(output.find("REORDERING: ") != std::string::npos);
  CHECK(output.find("result           FAILED") != std::string::npos);
}

TEST_CASE("chat-bench --json-report prints one object and exits 0", "[bench][binary]") {
  chat::test::test_server server(bench_config());
  chat::test::child_process bench(
      CHAT_BENCH_BINARY, {"chatroom", "--port", std::to_string(server.port()), "--clients", "3",
                          "--messages", "300", "--json", "--json-report", "--max-seconds", "20"});
  CHECK(bench.wait(20s) == 0);
  const std::string& output = bench.output();
  INFO(output);
  // No terminal: no progress line, only the object.
  const auto json = nlohmann::json::parse(output);
  CHECK(json["ok"] == true);
  CHECK(json["mode"] == "json");
  CHECK(json["received"] == 3 * 2 * 300);
  server.stop();
}

TEST_CASE("chat-bench --tls against a plain port exits 1 and says why", "[bench][binary]") {
  chat::test::test_server server(bench_config());
  chat::test::child_process bench(
      CHAT_BENCH_BINARY, {"chatroom", "--tls", "--port", std::to_string(server.port()), "--clients",
                          "2", "--max-seconds", "20"});
  CHECK(bench.wait(10s) == 1);
  const std::string& output = bench.output();
  INFO(output);
  CHECK(output.find("RUN FAILED") != std::string::npos);
  CHECK(output.find("TLS handshake failed") != std::string::npos);
  server.stop();
}

TEST_CASE("chat-bench with receivers on a server the senders are not on exits 1",
          "[bench][binary][targets]") {
  chat::test::test_server a(bench_config());
  chat::test::test_server b(bench_config());
  chat::test::child_process bench(
      CHAT_BENCH_BINARY,
      {"fanout", "--port", std::to_string(a.port()), "--port", std::to_string(b.port()),
       "--receivers", "2", "--messages", "100", "--quiet-ms", "300", "--max-seconds", "20"});
  CHECK(bench.wait(20s) == 1);
  const std::string& output = bench.output();
  INFO(output);
  CHECK(output.find("RUN FAILED") != std::string::npos);
  CHECK(output.find("LOSS: the warm-up message never reached 2 of 2 receivers") !=
        std::string::npos);
  CHECK(output.find("senders 127.0.0.1:" + std::to_string(a.port()) +
                    ", receivers 127.0.0.1:" + std::to_string(b.port())) != std::string::npos);
  a.stop();
  b.stop();
}

TEST_CASE("chat-bench refuses a bad command line with status 2", "[bench][binary]") {
  chat::test::child_process bench(CHAT_BENCH_BINARY, {"fanout", "--window", "0"});
  CHECK(bench.wait() == 2);
  CHECK(bench.output().find("invalid --window '0'") != std::string::npos);
}
#endif

TEST_CASE("chat-bench --acks: every ref acked and the ack latency reported", "[bench][server]") {
  chat::test::data_dir dir;
  chat::server::config config = bench_config();
  SECTION("history in memory") {}
  SECTION("history on disk: acked once stored") { config.data_dir = dir.string(); }
  chat::test::test_server server(config);
  options o = small(scenario::fanout, server.port());
  o.json = true;
  o.acks = true;
  SECTION("fanout") {}
  SECTION("chatroom, two threads") {
    o.which = scenario::chatroom;
    o.messages = 500;
    o.threads = 2;
  }
  const report r = run(o);
  const bool room = o.which == scenario::chatroom;
  const std::uint64_t senders = room ? o.clients : 1;
  // A chatroom's client gets everyone's but its own.
  check_clean(r, room ? std::uint64_t{o.clients} * (o.clients - 1) * o.messages
                      : std::uint64_t{o.receivers} * o.messages);
  INFO(explain(r));
  CHECK(r.acks);
  // Every 16th message carries a ref.
  CHECK(r.acks_asked == senders * (o.messages / 16));
  CHECK(r.acks_received == r.acks_asked);
  CHECK(r.acks_unexpected == 0);
  CHECK(r.ack_p50_ns > 0);
  CHECK(r.ack_p50_ns <= r.ack_p99_ns);
  CHECK(r.ack_p99_ns <= r.ack_max_ns);
  CHECK_THAT(render_table(r), Contains("ack latency (us)"));
  server.stop();
}

TEST_CASE("chat-bench --churn: the background load runs beside a clean scenario",
          "[bench][server][churn]") {
  chat::test::data_dir dir;
  chat::server::config config = bench_config();
  config.data_dir = dir.string();
  config.password_ops = 1;
  config.password_memory = 8192;
  chat::test::test_server server(config);
  options o = small(scenario::fanout, server.port());
  o.churn_rate = 200;
  o.churn_accounts = 5;
  o.churn_rooms = 10;
  o.churn_history = 7;
  SECTION("joins of rooms kept on disk") { o.churn = churn_kind::joins; }
  SECTION("logins") { o.churn = churn_kind::logins; }
  SECTION("logins to accounts") { o.churn = churn_kind::accounts; }
  const report r = run(o);
  check_clean(r, std::uint64_t{o.receivers} * o.messages);
  INFO(explain(r));
  CHECK(r.churn == to_string(o.churn));
  CHECK(r.churn_failed == 0);
  CHECK(r.churn_done > 0);
  CHECK(r.churn_per_s > 0);
  CHECK(r.churn_p50_ns > 0);
  CHECK(r.churn_p50_ns <= r.churn_p99_ns);
  if (o.churn == churn_kind::joins) {
    // Each room was left empty, so every join brought its history back.
    CHECK(r.churn_history_messages >= r.churn_done * o.churn_history);
  }
  CHECK_THAT(render_table(r), Contains("churn answer (us)"));
  server.stop();
}
