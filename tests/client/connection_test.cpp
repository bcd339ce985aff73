#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include "client/connection.hpp"
#include "protocol/event.hpp"
#include "support/fake_server.hpp"
#include "test_pki.hpp"
#include "test_server.hpp"

namespace {

namespace asio = boost::asio;
namespace protocol = chat::protocol;
using chat::client::connection;
using chat::client::tls_options;
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
asio::awaitable<std::optional<connection>> connect_to(std::uint16_t port,
                                                      std::optional<tls_options> tls) {
  const auto executor = co_await asio::this_coro::executor;
  co_return co_await connection::connect(executor, "127.0.0.1", port, std::move(tls));
}

connection connect(asio::io_context& io, std::uint16_t port,
                   std::optional<tls_options> tls = std::nullopt) {
  auto connected = finish(io, connect_to(port, std::move(tls)));
  REQUIRE(connected);
  return std::move(*connected);
}

// One TLS connection's server: sends `bytes`, then ends the TCP connection
// without TLS's close_notify, as someone in between cutting it would.
asio::awaitable<void> send_and_cut(asio::ip::tcp::acceptor& acceptor, asio::ssl::context& context,
                                   std::string bytes) {
  asio::ssl::stream<asio::ip::tcp::socket> stream(
      co_await acceptor.async_accept(asio::use_awaitable), context);
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
  co_await asio::async_write(stream, asio::buffer(bytes), asio::use_awaitable);
  stream.next_layer().shutdown(asio::ip::tcp::socket::shutdown_send);
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

TEST_CASE("connection over TLS drops an unfinished last frame when TLS is cut short",
          "[connection][tls]") {
  chat::test::test_pki pki;
  const chat::test::key_pair pair = pki.issue("cut");
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.use_certificate_chain_file(pair.cert_file);
  context.use_private_key_file(pair.key_file, asio::ssl::context::pem);
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  asio::co_spawn(io, send_and_cut(acceptor, context, "USER\nhalf a fra"), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });

  connection client = connect(io, acceptor.local_endpoint().port(), tls_options{.insecure = true});
  CHECK(finish(io, client.read_frame()) == "USER");
  // Unlike a plain connection's last frame: TLS says this one was not ended
  // by the server, so it may not be what the server sent.
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
