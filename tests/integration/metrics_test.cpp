// /metrics on the HTTP port: each family scraped before and after what
// should move it, and the text in the Prometheus exposition format.

#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "chat_session.hpp"
#include "data_dir.hpp"
#include "slow_consumer_scene.hpp"
#include "test_server.hpp"
#include "websocket_client.hpp"

using namespace chat::test;

namespace {

// One scrape: each sample's value by its name and labels as written
// (`chat_errors_total{code="bad-json"}`). Throws if a line is not a sample,
// a comment, or empty.
class scrape {
public:
  explicit scrape(std::uint16_t http_port) {
    const http_reply reply = http_get(http_port, "/metrics");
    REQUIRE(reply.status == 200);
    REQUIRE(reply.head.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
    static const std::regex sample(R"(([a-z_]+(\{[a-z_]+="[^"]*"\})?) (\S+))");
    std::istringstream lines(reply.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
      std::smatch m;
      if (!std::regex_match(line, m, sample)) FAIL("not a sample: " + line);
      values_[m[1]] = std::stod(m[3]);
    }
  }
  double operator[](const std::string& sample) const {
    const auto found = values_.find(sample);
    if (found == values_.end()) FAIL("no sample " + sample);
    return found->second;
  }

private:
  std::map<std::string, double> values_;
};

}  // namespace

TEST_CASE("metrics: connections, sessions, logins, messages, deliveries and bytes move",
          "[metrics]") {
  test_server server(with_http());
  const std::uint16_t port = server.http_port();
  const scrape before(port);

  line_client plain = join_plain(server.port(), "bob");
  line_client json_client = join_json(server.port(), "carol");
  expect_join(plain, "carol");
  websocket_client web(port);
  web.send_text(R"({"type":"hello","user":"alice"})");
  REQUIRE(json::parse(web.read_text())["type"] == "welcome");
  expect_join(plain, "alice");
  expect_join(json_client, "alice");
  const std::vector<std::uint64_t> ids = say_numbered(json_client, 10);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(plain.read_line() == "carol: m" + std::to_string(i));
    REQUIRE(json::parse(web.read_text())["type"] == "msg");
  }

  // Counters are the process's, summed over its threads: a test compares
  // what it did with what it found before.
  const scrape during(port);
  const auto moved = [&](const scrape& later, const std::string& sample) {
    return later[sample] - before[sample];
  };
  const std::string tcp = "chat_connections{transport=\"tcp\"}";
  const std::string websocket = "chat_connections{transport=\"websocket\"}";
  const std::string plain_sessions = "chat_sessions{form=\"plain\"}";
  const std::string json_sessions = "chat_sessions{form=\"json\"}";
  CHECK(moved(during, tcp) == 2);
  CHECK(moved(during, websocket) == 1);
  CHECK(moved(during, plain_sessions) == 1);
  CHECK(moved(during, json_sessions) == 2);
  CHECK(moved(during, "chat_logins_total") == 3);
  CHECK(moved(during, "chat_messages_in_total") == 10);
  // Each message to two others, and the joins' announcements besides.
  CHECK(moved(during, "chat_deliveries_total") >= 20);
  CHECK(moved(during, "chat_bytes_in_total") > 300);
  CHECK(moved(during, "chat_bytes_out_total") > 1000);

  web.close();
  plain.send_line("/quit");
  plain.read_until_eof();
  // The gauges go down once the server has seen the sessions end.
  const auto ended = [&](const scrape& later) {
    return moved(later, plain_sessions) == 0 && moved(later, json_sessions) == 1 &&
           moved(later, websocket) == 0 && moved(later, tcp) == 1;
  };
  for (int attempt = 0; attempt < 100 && !ended(scrape(port)); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const scrape after(port);
  CHECK(moved(after, plain_sessions) == 0);
  CHECK(moved(after, json_sessions) == 1);
  CHECK(moved(after, websocket) == 0);
  CHECK(moved(after, tcp) == 1);
}

TEST_CASE("metrics: errors by code, rate-limited requests and slow consumers are counted",
          "[metrics]") {
  chat::server::config config = with_http();
  config.rate_limit = 1;
  config.rate_burst = 1;
  config.max_queue = 64 * 1024;
  test_server server(config);
  const std::uint16_t port = server.http_port();
  const scrape before(port);

  line_client json_client = join_json(server.port(), "carol");
  json_client.send_line("{not json");
  CHECK(read_json(json_client)["code"] == "bad-json");
  json_client.send_line(R"({"type":"msg","text":"one"})");
  json_client.send_line(R"({"type":"msg","text":"two"})");
  CHECK(read_json(json_client)["code"] == "rate-limited");

  const scrape during(port);
  CHECK(during["chat_errors_total{code=\"bad-json\"}"] -
            before["chat_errors_total{code=\"bad-json\"}"] ==
        1);
  CHECK(during["chat_errors_total{code=\"rate-limited\"}"] -
            before["chat_errors_total{code=\"rate-limited\"}"] ==
        1);
  CHECK(during["chat_rate_limited_total"] - before["chat_rate_limited_total"] == 1);
  CHECK(during["chat_slow_consumers_total"] == before["chat_slow_consumers_total"]);
}

TEST_CASE("metrics: a slow consumer dropped is counted", "[metrics]") {
  chat::server::config config = with_http();
  config.max_queue = 64 * 1024;
  test_server server(config);
  const scrape before(server.http_port());
  stalled_room room = join_stalled_room(server.port(), 1);
  line_client& chatter = room.chatters[0];
  const std::string text(1000, 'x');
  std::size_t pushed = 0;
  // The chatter hears nothing but the stalled client's leave, once the
  // server has dropped it.
  bool dropped = false;
  while (!dropped) {
    REQUIRE(pushed < stalled_give_up_after);
    for (int i = 0; i < 100; ++i, pushed += text.size()) {
      chatter.send_line(json{{"type", "msg"}, {"text", text}}.dump());
    }
    chatter.receive_available();
    while (auto line = chatter.take_line()) dropped |= json::parse(*line)["type"] == "leave";
  }
  CHECK(scrape(server.http_port())["chat_slow_consumers_total"] -
            before["chat_slow_consumers_total"] ==
        1);
  CHECK(scrape(server.http_port())["chat_errors_total{code=\"slow-consumer\"}"] -
            before["chat_errors_total{code=\"slow-consumer\"}"] ==
        1);
}

TEST_CASE("metrics: the history writer's backlog and the delivery histogram are reported",
          "[metrics]") {
  data_dir dir;
  chat::server::config config = with_http();
  config.data_dir = dir.path().string();
  test_server server(config);
  line_client plain = join_plain(server.port(), "bob");
  line_client json_client = join_json(server.port(), "carol");
  expect_join(plain, "carol");
  say_numbered(json_client, 300);
  for (int i = 0; i < 300; ++i) REQUIRE(plain.read_line() == "carol: m" + std::to_string(i));
  const scrape now(server.http_port());
  CHECK(now["chat_history_backlog_bytes"] >= 0);
  CHECK(now["chat_history_unstored_total"] == 0);
  // A sample of the messages is timed: with 300 sent, some are.
  const double timed = now["chat_delivery_seconds_count"];
  CHECK(timed > 0);
  CHECK(now["chat_delivery_seconds_bucket{le=\"+Inf\"}"] == timed);
  CHECK(now["chat_delivery_seconds_sum"] > 0);
  CHECK(now["chat_delivery_seconds_bucket{le=\"0.0005\"}"] <=
        now["chat_delivery_seconds_bucket{le=\"2.5\"}"]);
}
