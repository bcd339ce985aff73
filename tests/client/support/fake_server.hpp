#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::test {

// The server's side of a connection played by hand, for what the real
// server never does: vanish mid-session, send an oversized or unterminated
// frame. Blocking sockets; every wait has a deadline.
class fake_server {
public:
  class peer {
  public:
    explicit peer(int fd) noexcept : fd_(fd) {}
    peer(peer&& other) noexcept;
    peer& operator=(peer&&) = delete;
    ~peer();

    // Writes all of `bytes`; throws std::system_error.
    void send(std::string_view bytes);
    // The next line without its LF; nullopt at EOF or past the deadline.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // A FIN, as a server that closes on purpose sends.
    void close() noexcept;
    // An RST, as a crashed or unreachable server looks.
    void reset() noexcept;

  private:
    int fd_ = -1;
    std::string pending_;
  };

  // Listens on 127.0.0.1 and a free port; throws std::system_error.
  fake_server();
  ~fake_server();
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // The next connection; throws std::runtime_error past the deadline.
  peer accept(std::chrono::milliseconds timeout);

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// A port on 127.0.0.1 where nothing listens: bound a moment ago, then closed.
std::uint16_t closed_port();

}  // namespace chat::test
