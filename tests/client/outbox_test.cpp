#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "client/connection.hpp"
#include "client/outbox.hpp"
#include "support/fake_server.hpp"

namespace {

namespace asio = boost::asio;
using chat::client::connection;
using chat::client::outbox;
using namespace std::chrono_literals;

connection connect(asio::io_context& io, std::uint16_t port) {
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::address_v4::loopback(), port});
  return connection(std::move(socket));
}

// Runs `io` until it has nothing left to do, failing the test instead of
// hanging when that takes more than 10 s.
void run_all(asio::io_context& io) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!io.stopped() && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
  REQUIRE(io.stopped());
}

asio::awaitable<void> send_both(outbox& box, std::string first, std::string second,
                                std::vector<bool>& results) {
  const bool first_sent = co_await box.send(first);
  results.push_back(first_sent);
  const bool second_sent = co_await box.send(second);
  results.push_back(second_sent);
}

asio::awaitable<void> post_one(outbox& box, std::string frame) {
  box.post(frame);
  co_return;
}

asio::awaitable<void> send_one(outbox& box, std::string frame, std::vector<bool>& results) {
  const bool sent = co_await box.send(frame);
  results.push_back(sent);
}

// Sends 1 MiB frames until one fails (at most 16), then one more frame.
asio::awaitable<void> send_until_failure(outbox& box, std::vector<bool>& results) {
  const std::string chunk = std::string(1 << 20, 'x') + "\n";
  for (int i = 0; i < 16 && (results.empty() || results.back()); ++i) {
    const bool sent = co_await box.send(chunk);
    results.push_back(sent);
  }
  const bool after = co_await box.send("after\n");
  results.push_back(after);
}

}  // namespace

TEST_CASE("outbox writes frames from several coroutines whole and in order", "[outbox]") {
  chat::test::fake_server fake;
  asio::io_context io;
  connection link = connect(io, fake.port());
  auto peer = fake.accept(5s);
  outbox box(io.get_executor(), link);

  // Far more than a socket buffer holds: the first write is still going on
  // while the others queue their frames.
  const std::string big(4 << 20, 'x');
  std::vector<std::string> received;
  std::thread reader([&] {
    while (received.size() < 5) {
      auto line = peer.read_line(10s);
      if (!line) break;
      received.push_back(std::move(*line));
    }
  });

  std::vector<bool> first_results, second_results;
  asio::co_spawn(io, send_both(box, big + "\nfirst\n", "last\n", first_results), asio::detached);
  asio::co_spawn(io, post_one(box, "pong\n"), asio::detached);
  asio::co_spawn(io, send_one(box, "second\n", second_results), asio::detached);
  run_all(io);
  reader.join();

  CHECK(first_results == std::vector<bool>{true, true});
  CHECK(second_results == std::vector<bool>{true});
  REQUIRE(received.size() == 5);
  // Compared so that a failure does not print megabytes.
  CHECK(received[0].size() == big.size());
  CHECK(received[0].find_first_not_of('x') == std::string::npos);
  CHECK(received[1] == "first");
  CHECK(received[2] == "pong");
  CHECK(received[3] == "second");
  CHECK(received[4] == "last");
}

TEST_CASE("outbox reports a broken connection and a close to its senders", "[outbox]") {
  chat::test::fake_server fake;
  asio::io_context io;
  connection link = connect(io, fake.port());
  auto peer = fake.accept(5s);
  outbox box(io.get_executor(), link);

  std::vector<bool> results;
  SECTION("closed") {
    box.close();
    asio::co_spawn(io, send_one(box, "hello\n", results), asio::detached);
    run_all(io);
    CHECK(results == std::vector<bool>{false});
    CHECK(peer.read_line(100ms) == std::nullopt);
  }
  SECTION("reset by the peer") {
    peer.reset();
    // A write may land in the socket buffer before the reset is known; one
    // of them fails, and every send after it.
    asio::co_spawn(io, send_until_failure(box, results), asio::detached);
    run_all(io);
    REQUIRE(results.size() >= 2);
    CHECK_FALSE(results.back());
    CHECK_FALSE(results[results.size() - 2]);
  }
}
