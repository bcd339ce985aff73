#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "client/connection.hpp"
#include "protocol/event.hpp"
#include "support/fake_server.hpp"
#include "test_server.hpp"

namespace {

namespace asio = boost::asio;
namespace protocol = chat::protocol;
using chat::client::connection;
using namespace std::chrono_literals;

// Runs `task` on `io` (in this thread) until it is done; fails the test
// instead of hanging when it takes more than 5 s.
template <class T>
T finish(asio::io_context& io, asio::awaitable<T> task) {
  auto result = asio::co_spawn(io, std::move(task), asio::use_future);
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (result.wait_for(0s) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(50ms);
  }
  REQUIRE(result.wait_for(0s) == std::future_status::ready);
  return result.get();
}

// co_spawn wants a default-constructible result; connection is not one.
asio::awaitable<std::optional<connection>> connect_to(std::uint16_t port) {
  const auto executor = co_await asio::this_coro::executor;
  co_return co_await connection::connect(executor, "127.0.0.1", port);
}

connection connect(asio::io_context& io, std::uint16_t port) {
  auto connected = finish(io, connect_to(port));
  REQUIRE(connected);
  return std::move(*connected);
}

}  // namespace

TEST_CASE("connection logs in and chats with the real server", "[connection][server]") {
  chat::test::test_server server;
  asio::io_context io;

  connection alice = connect(io, server.port());
  CHECK(finish(io, alice.read_frame()) == "USER");
  finish(io, alice.write(protocol::encode_hello_request("alice")));
  CHECK(finish(io, alice.read_frame()) ==
        R"({"type":"welcome","user":"alice","room":"lobby","users":["alice"]})");

  connection bob = connect(io, server.port());
  CHECK(finish(io, bob.read_frame()) == "USER");
  finish(io, bob.write(protocol::encode_hello_request("bob")));
  CHECK(finish(io, bob.read_frame()) ==
        R"({"type":"welcome","user":"bob","room":"lobby","users":["alice","bob"]})");
  CHECK(finish(io, alice.read_frame()) == R"({"type":"join","room":"lobby","user":"bob"})");

  finish(io, bob.write(protocol::encode_message_request("hi \"alice\"", "\"r1\"")));
  const auto ack = finish(io, bob.read_frame());
  REQUIRE(ack);
  CHECK(ack->starts_with(R"({"type":"ack","ref":"r1","id":)"));
  const auto message = finish(io, alice.read_frame());
  REQUIRE(message);
  CHECK(message->starts_with(R"({"type":"msg","id":)"));
  CHECK(message->ends_with(R"("room":"lobby","from":"bob","text":"hi \"alice\""})"));

  finish(io, alice.write(protocol::encode_bare_request("quit")));
  CHECK(finish(io, alice.read_frame()) == std::nullopt);
  CHECK(finish(io, bob.read_frame()) == R"({"type":"leave","room":"lobby","user":"alice"})");
}

TEST_CASE("connection::connect names the address it could not reach", "[connection]") {
  asio::io_context io;
  const std::uint16_t port = chat::test::closed_port();
  try {
    connect(io, port);
    FAIL("connected to a closed port");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::connection_refused);
    CHECK_THAT(e.what(), Catch::Contains("cannot connect to 127.0.0.1:" + std::to_string(port)));
  }
}

TEST_CASE("connection::read_frame takes a last unterminated frame, then reports EOF",
          "[connection]") {
  chat::test::fake_server fake;
  asio::io_context io;
  connection client = connect(io, fake.port());
  auto peer = fake.accept(5s);

  peer.send("USER\r\n\n{\"type\":\"pong\"}\n{\"type\":\"sh");
  peer.send("utdown\"}");
  peer.close();
  CHECK(finish(io, client.read_frame()) == "USER");
  CHECK(finish(io, client.read_frame()) == R"({"type":"pong"})");
  CHECK(finish(io, client.read_frame()) == R"({"type":"shutdown"})");
  CHECK(finish(io, client.read_frame()) == std::nullopt);
}

TEST_CASE("connection::read_frame refuses a frame over its limit", "[connection]") {
  chat::test::fake_server fake;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::address_v4::loopback(), fake.port()});
  connection client(std::move(socket), 16);
  auto peer = fake.accept(5s);

  peer.send("USER\n" + std::string(17, 'x') + "\n");
  CHECK(finish(io, client.read_frame()) == "USER");
  CHECK_THROWS_WITH(finish(io, client.read_frame()), Catch::Contains("longer than 16 bytes"));
}
