#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "bench/options.hpp"

namespace {

using namespace chat::bench;

parsed_options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "chat-bench");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

options ok(std::vector<std::string> args) {
  const auto parsed = parse(std::move(args));
  if (const auto* error = std::get_if<usage_error>(&parsed)) FAIL(error->message);
  REQUIRE(std::holds_alternative<options>(parsed));
  return std::get<options>(parsed);
}

std::string error(std::vector<std::string> args) {
  const auto parsed = parse(std::move(args));
  REQUIRE(std::holds_alternative<usage_error>(parsed));
  return std::get<usage_error>(parsed).message;
}

}  // namespace

TEST_CASE("each scenario has its defaults", "[options]") {
  const options fanout = ok({"fanout"});
  CHECK(fanout.which == scenario::fanout);
  CHECK(fanout.messages == 100'000);
  CHECK(fanout.receivers == 10);
  CHECK(fanout.ports == std::vector<std::uint16_t>{7777});
  CHECK_FALSE(fanout.json);
  CHECK_FALSE(fanout.progress.has_value());

  const options room = ok({"chatroom"});
  CHECK(room.clients == 20);
  CHECK(room.messages == 10'000);

  const options latency = ok({"latency", "--rate", "2000", "--duration", "1.5"});
  CHECK(latency.messages == 3000);

  const options connect = ok({"connect"});
  CHECK(connect.clients == 1000);
}

TEST_CASE("flags take values with a space or an equals sign", "[options]") {
  const options o = ok({"--port=9000",   "chatroom",
                        "--clients",     "5",
                        "--json",        "--payload=128",
                        "--messages",    "7",
                        "--window",      "3",
                        "--threads",     "2",
                        "--server-pid",  "42",
                        "--max-seconds", "2.5",
                        "--quiet-ms",    "300",
                        "--json-report", "--no-progress",
                        "--hold-ms",     "0",
                        "--concurrency", "9"});
  CHECK(o.which == scenario::chatroom);
  CHECK(o.ports == std::vector<std::uint16_t>{9000});
  CHECK(o.clients == 5);
  CHECK(o.json);
  CHECK(o.payload == 128);
  CHECK(o.messages == 7);
  CHECK(o.window == 3);
  CHECK(o.threads == 2);
  CHECK(o.server_pid == 42);
  CHECK(o.max_seconds == 2.5);
  CHECK(o.quiet.count() == 300);
  CHECK(o.json_report);
  CHECK(o.progress == false);
  CHECK(o.hold.count() == 0);
  CHECK(o.concurrency == 9);
}

TEST_CASE("bad command lines are refused with a reason", "[options]") {
  CHECK(error({}).find("no scenario") != std::string::npos);
  CHECK(error({"party"}).find("unknown scenario 'party'") != std::string::npos);
  CHECK(error({"fanout", "chatroom"}).find("more than one") != std::string::npos);
  CHECK(error({"fanout", "--port", "0"}).find("--port '0'") != std::string::npos);
  CHECK(error({"fanout", "--payload", "63"}).find("--payload") != std::string::npos);
  CHECK(error({"fanout", "--window", "0"}).find("--window") != std::string::npos);
  CHECK(error({"fanout", "--rate", "-1"}).find("--rate") != std::string::npos);
  CHECK(error({"fanout", "--threads", "65"}).find("--threads") != std::string::npos);
  CHECK(error({"fanout", "--messages"}).find("needs a value") != std::string::npos);
  CHECK(error({"fanout", "--json=1"}).find("takes no value") != std::string::npos);
  CHECK(error({"fanout", "--bogus"}).find("unknown option") != std::string::npos);
  CHECK(error({"chatroom", "--clients", "1"}).find("2 or more") != std::string::npos);
}

TEST_CASE("a repeated --port: senders on the first, receivers round-robin on the others",
          "[options]") {
  const options one = ok({"fanout", "--port", "7001"});
  CHECK(one.ports == std::vector<std::uint16_t>{7001});
  // One port: everyone on it, as before.
  for (std::size_t i = 0; i < 4; ++i) CHECK(target_of(one, i) == 0);

  options fanout = ok({"fanout", "--port", "7001", "--port=7002", "--port", "7003"});
  CHECK(fanout.ports == std::vector<std::uint16_t>{7001, 7002, 7003});
  const std::vector<std::size_t> dealt{0, 1, 2, 1, 2, 1};
  for (std::size_t i = 0; i < dealt.size(); ++i) {
    INFO("client " << i);
    CHECK(target_of(fanout, i) == dealt[i]);
    fanout.which = scenario::latency;
    CHECK(target_of(fanout, i) == dealt[i]);
    fanout.which = scenario::fanout;
  }
  const options two = ok({"latency", "--port", "7001", "--port", "7002"});
  CHECK(target_of(two, 0) == 0);
  for (std::size_t i = 1; i < 5; ++i) CHECK(target_of(two, i) == 1);

  // No sides to take: round-robin over all of them.
  for (const char* which : {"chatroom", "connect"}) {
    INFO(which);
    const options all = ok({which, "--port", "7001", "--port", "7002", "--port", "7001"});
    CHECK(all.ports == std::vector<std::uint16_t>{7001, 7002, 7001});
    for (std::size_t i = 0; i < 7; ++i) CHECK(target_of(all, i) == i % 3);
  }

  CHECK(error({"fanout", "--port", "7001", "--port", "0"}).find("--port '0'") != std::string::npos);
  CHECK(error({"fanout", "--port", "7001", "--port", "65536"}).find("--port '65536'") !=
        std::string::npos);
  CHECK(error({"fanout", "--port", "7001", "--port"}).find("needs a value") != std::string::npos);
  CHECK(error({"fanout", "--port", "7001,7002"}).find("--port '7001,7002'") != std::string::npos);
  const auto help = std::get<usage_text>(parse({"--help"})).text;
  CHECK(help.find("Repeatable") != std::string::npos);
}

TEST_CASE("WebSocket: --ws speaks JSON to the HTTP port", "[options]") {
  const options web = ok({"fanout", "--ws"});
  CHECK(web.ws);
  CHECK(web.json);
  CHECK_FALSE(ok({"fanout"}).ws);
  // With --tls: WebSocket over TLS, to the HTTPS port.
  const options secure = ok({"fanout", "--ws", "--tls", "--ca", "ca.pem"});
  CHECK(secure.ws);
  CHECK(secure.tls);
  CHECK(secure.json);
}

TEST_CASE("TLS is verified only with --ca", "[options]") {
  const options plain = ok({"fanout"});
  CHECK_FALSE(plain.tls);
  CHECK(plain.ca_file.empty());
  CHECK(plain.server_name.empty());

  const options unverified = ok({"chatroom", "--tls"});
  CHECK(unverified.tls);
  CHECK(unverified.ca_file.empty());

  const options verified = ok({"connect", "--tls", "--ca", "ca.pem", "--server-name=chat.example"});
  CHECK(verified.tls);
  CHECK(verified.ca_file == "ca.pem");
  CHECK(verified.server_name == "chat.example");

  CHECK(error({"fanout", "--ca", "ca.pem"}).find("need --tls") != std::string::npos);
  CHECK(error({"fanout", "--server-name", "x"}).find("need --tls") != std::string::npos);
  CHECK(error({"fanout", "--tls", "--ca"}).find("needs a value") != std::string::npos);
  CHECK(error({"fanout", "--tls=1"}).find("takes no value") != std::string::npos);
}

TEST_CASE("help names the fair-use flags to turn off", "[options]") {
  const auto parsed = parse({"--help"});
  REQUIRE(std::holds_alternative<usage_text>(parsed));
  const std::string& text = std::get<usage_text>(parsed).text;
  CHECK(text.find("--rate-limit 0 --max-per-ip 0") != std::string::npos);
  CHECK(text.find("fanout|chatroom|latency|connect") != std::string::npos);
  // Benchmarks use throwaway certificates: saying so avoids a surprise.
  CHECK(text.find("NOT verified unless --ca") != std::string::npos);
}

TEST_CASE("chat-bench --acks times acks in JSON sessions of scenarios that send", "[options]") {
  CHECK_FALSE(ok({"fanout", "--json"}).acks);
  CHECK(ok({"fanout", "--json", "--acks"}).acks);
  CHECK(ok({"--acks", "chatroom", "--json"}).acks);
  CHECK(ok({"latency", "--json", "--acks"}).acks);
  CHECK(error({"fanout", "--acks"}).find("--json") != std::string::npos);
  CHECK(error({"connect", "--json", "--acks"}).find("sends messages") != std::string::npos);
}

TEST_CASE("chat-bench --churn takes a kind and a rate", "[options]") {
  CHECK(ok({"fanout"}).churn == churn_kind::none);
  const options joins = ok({"fanout", "--churn", "joins:100"});
  CHECK(joins.churn == churn_kind::joins);
  CHECK(joins.churn_rate == 100);
  const options logins = ok({"chatroom", "--churn=logins:2.5"});
  CHECK(logins.churn == churn_kind::logins);
  CHECK(logins.churn_rate == 2.5);
  CHECK(ok({"fanout", "--churn", "accounts:200"}).churn == churn_kind::accounts);
  for (const char* bad : {"joins", "joins:", "joins:0", "joins:-1", "parts:10", "logins:1e9"}) {
    INFO(bad);
    CHECK(error({"fanout", "--churn", bad}).find("--churn") != std::string::npos);
  }
}
