#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "bench/report.hpp"

namespace {

using namespace chat::bench;

report clean_fanout() {
  report r;
  r.scenario = "fanout";
  r.target = "127.0.0.1:7777";
  r.run_id = "0000abcd";
  r.receivers = 10;
  r.messages = 1000;
  r.connections = r.logged_in = 11;
  r.sent = 1000;
  r.expected = r.received = 10'000;
  r.elapsed_s = 0.5;
  r.deliveries_per_s = 20'000;
  r.latency_samples = 625;
  r.p50_ns = 12'345;
  return r;
}

bool mentions(const report& r, const std::string& word) {
  for (const auto& p : r.problems) {
    if (p.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a clean run has no problems and says nothing loud", "[report]") {
  report r = clean_fanout();
  judge(r);
  CHECK(r.ok());
  CHECK(render_problems(r).empty());
  const std::string table = render_table(r);
  CHECK(table.find("deliveries/s     20.0 k") != std::string::npos);
  CHECK(table.find("result           ok") != std::string::npos);
}

TEST_CASE("loss, duplicates, reordering and failures are problems", "[report]") {
  report r = clean_fanout();
  r.received = 9'990;
  r.lost = 10;
  r.duplicates = 2;
  r.reordered = 3;
  r.server_errors = 1;
  r.first_server_error = "! error slow-consumer: too slow";
  r.connections_failed = 1;
  r.first_failure = "cb-3: the server closed the connection";
  r.worst_receivers.push_back({"cb-3", 10, 2, 3});
  judge(r);
  CHECK_FALSE(r.ok());
  CHECK(mentions(r, "LOSS: 10 of 10000"));
  CHECK(mentions(r, "DUPLICATES: 2"));
  CHECK(mentions(r, "REORDERING: 3"));
  CHECK(mentions(r, "slow-consumer"));
  CHECK(mentions(r, "1 of 11 connections failed"));
  const std::string loud = render_problems(r);
  CHECK(loud.find("RUN FAILED") != std::string::npos);
  CHECK(loud.find("receiver cb-3: lost 10, duplicates 2, reordered 3") != std::string::npos);

  report limited = clean_fanout();
  limited.server_errors = 3;
  limited.first_server_error = "! error rate-limited: slow down";
  judge(limited);
  CHECK(mentions(limited, "--rate-limit 0 --max-per-ip 0"));

  report timed_out = clean_fanout();
  timed_out.time_limit = true;
  judge(timed_out);
  CHECK(mentions(timed_out, "--max-seconds"));
}

TEST_CASE("a run over TLS says so in the table and the JSON", "[report]") {
  report r = clean_fanout();
  r.tls = true;
  judge(r);
  CHECK(render_table(r).find("plain sessions over TLS, 127.0.0.1:7777") != std::string::npos);
  CHECK(nlohmann::json::parse(render_json(r))["tls"] == true);
}

TEST_CASE("foreign messages are reported but fail nothing", "[report]") {
  report r = clean_fanout();
  r.foreign = 100;
  judge(r);
  CHECK(r.ok());
}

TEST_CASE("the JSON report is one object with the numbers", "[report]") {
  report r = clean_fanout();
  r.lost = 1;
  judge(r);
  const std::string line = render_json(r);
  CHECK(line.find('\n') == std::string::npos);
  const auto json = nlohmann::json::parse(line);
  CHECK(json["scenario"] == "fanout");
  CHECK(json["mode"] == "plain");
  CHECK(json["tls"] == false);
  CHECK(json["ok"] == false);
  CHECK(json["lost"] == 1);
  CHECK(json["received"] == 10'000);
  CHECK(json["deliveries_per_s"] == 20'000.0);
  CHECK(json["p50_us"] == Approx(12.345));
  CHECK(json["params"]["receivers"] == 10);
  CHECK(json["server_cpu_s"].is_null());

  report connect;
  connect.scenario = "connect";
  connect.connections = connect.logged_in = 5;
  connect.connects_per_s = 1000;
  connect.rss_before_kib = 100;
  connect.rss_after_kib = 110;
  connect.rss_per_connection_kib = 2.0;
  judge(connect);
  const auto c = nlohmann::json::parse(render_json(connect));
  CHECK(c["ok"] == true);
  CHECK(c["rss_per_connection_kib"] == 2.0);
  CHECK_FALSE(c.contains("lost"));
}

TEST_CASE("ack latency is reported only when acks were asked for", "[report]") {
  report plain = clean_fanout();
  judge(plain);
  CHECK(render_table(plain).find("ack latency") == std::string::npos);
  const auto without = nlohmann::json::parse(render_json(plain));
  CHECK_FALSE(without.contains("ack_p50_us"));
  CHECK_FALSE(without.contains("acks_asked"));

  report r = clean_fanout();
  r.json = true;
  r.acks = true;
  r.acks_asked = r.acks_received = 62;
  r.ack_p50_ns = 250'000;
  r.ack_p99_ns = 1'500'000;
  r.ack_max_ns = 2'345'600;
  judge(r);
  CHECK(r.ok());
  const std::string table = render_table(r);
  CHECK(table.find("ack latency (us) p50 250.0  p99 1500.0  max 2345.6  (62 of 62 acked)") !=
        std::string::npos);
  const auto with = nlohmann::json::parse(render_json(r));
  CHECK(with["acks_asked"] == 62);
  CHECK(with["acks_received"] == 62);
  CHECK(with["acks_unexpected"] == 0);
  CHECK(with["ack_p50_us"] == 250.0);
  CHECK(with["ack_p99_us"] == 1500.0);
  CHECK(with["ack_max_us"] == 2345.6);
}

TEST_CASE("missing and unexpected acks are problems", "[report]") {
  report r = clean_fanout();
  r.acks = true;
  r.acks_asked = 62;
  r.acks_received = 0;
  r.acks_unexpected = 3;
  judge(r);
  CHECK_FALSE(r.ok());
  CHECK(mentions(r, "ACKS MISSING: 62 of 62"));
  CHECK(mentions(r, "UNEXPECTED ACKS: 3"));
  const auto out = nlohmann::json::parse(render_json(r));
  CHECK(out["ack_p50_us"].is_null());  // no ack came: no figure
}
