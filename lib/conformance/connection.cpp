#include "conformance/connection.hpp"

#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

namespace chat::conformance {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

bool connection::run_until(clock::time_point deadline) {
  context_.restart();
  context_.run_until(deadline);
  if (context_.stopped()) return true;
  resolver_.cancel();
  error_code ignored;
  socket_.cancel(ignored);
  context_.run();
  return false;
}

error_code connection::connect(const std::string& host, std::uint16_t port,
                               clock::time_point deadline) {
  error_code error;
  tcp::resolver::results_type endpoints;
  resolver_.async_resolve(host, std::to_string(port),
                          [&](const error_code& e, tcp::resolver::results_type results) {
                            error = e;
                            endpoints = std::move(results);
                          });
  if (!run_until(deadline)) return asio::error::timed_out;
  if (error) return error;

  asio::async_connect(socket_, endpoints,
                      [&](const error_code& e, const tcp::endpoint&) { error = e; });
  if (!run_until(deadline)) return asio::error::timed_out;
  if (error) return error;
  // Transcripts send a frame in pieces to test the server's framing; Nagle
  // would hold the later pieces back until the first is acknowledged.
  socket_.set_option(tcp::no_delay(true), error);
  return error;
}

error_code connection::send(std::string_view bytes, clock::time_point deadline) {
  error_code error;
  asio::async_write(socket_, asio::buffer(bytes),
                    [&](const error_code& e, std::size_t) { error = e; });
  if (!run_until(deadline)) return asio::error::timed_out;
  return error;
}

connection::received connection::receive(clock::time_point deadline) {
  using kind = received::kind;
  for (;;) {
    if (const auto lf = pending_.find('\n'); lf != std::string::npos) {
      received frame{kind::frame, pending_.substr(0, lf), {}};
      pending_.erase(0, lf + 1);
      return frame;
    }
    if (pending_.size() > max_frame) {
      return {kind::failed, {}, asio::error::message_size};
    }
    if (peer_closed_) return {kind::closed, std::exchange(pending_, {}), close_reason_};

    error_code error;
    std::size_t count = 0;
    socket_.async_read_some(asio::buffer(chunk_), [&](const error_code& e, std::size_t n) {
      error = e;
      count = n;
    });
    const bool completed = run_until(deadline);
    // A read can finish in the instant it is cancelled: keep what it brought.
    pending_.append(chunk_.data(), count);
    if (count > 0) continue;
    if (!completed) return {kind::timed_out, {}, {}};
    if (error == asio::error::eof || error == asio::error::connection_reset) {
      peer_closed_ = true;
      close_reason_ = error;
      continue;
    }
    if (error) return {kind::failed, {}, error};
  }
}

void connection::close() {
  error_code ignored;
  socket_.close(ignored);
}

void connection::finish(clock::time_point deadline) {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  for (;;) {
    const received r = receive(deadline);
    if (r.what != received::kind::frame) break;
  }
  close();
}

}  // namespace chat::conformance
