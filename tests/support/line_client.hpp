#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ssl_st;

namespace chat::test {

// Long enough for a sanitizer build on a busy machine, short enough that a
// server which never answers fails the test instead of hanging the suite.
inline constexpr std::chrono::milliseconds default_timeout{5'000};

// A line_client over TLS. The handshake is done in the constructor, which
// throws with OpenSSL's reason (and the verification result) if it fails.
struct tls_client_options {
  // The CA file the server's certificate must chain to; empty verifies nothing.
  std::string ca_file{};
  // Sent as SNI and checked against the certificate when ca_file is given.
  std::string server_name = "localhost";
  // Offers TLS 1.0 and 1.1 only, as an outdated client would.
  bool legacy_versions_only = false;
};

struct line_client_options {
  // SO_RCVBUF set before connecting; 0 keeps the kernel's autotuned default.
  // A small buffer makes a client that stops reading push back at once.
  int receive_buffer = 0;
  // Local IPv4 address to connect from (any 127.x.y.z reaches a loopback
  // server); empty lets the kernel choose. Per-address limits are tested with it.
  std::string source_address{};
  // Set: speak TLS over the connection.
  std::optional<tls_client_options> tls{};
};

// A blocking TCP (or TLS) client that speaks lines, for tests. Every read has a
// deadline (poll), so a broken server is a failed test with a message saying
// what was awaited, never a hang. Failures are thrown as std::runtime_error.
class line_client {
public:
  line_client(std::uint16_t port, line_client_options options = {});
  ~line_client();
  line_client(line_client&& other) noexcept;
  line_client& operator=(line_client&& other) noexcept;
  line_client(const line_client&) = delete;
  line_client& operator=(const line_client&) = delete;

  // Sends `line` followed by LF.
  void send_line(std::string_view line);
  // Sends bytes as they are: partial lines, CRLF, invalid UTF-8...
  void send_raw(std::string_view bytes);

  // The next line without its LF. Throws on timeout or when the server closes.
  std::string read_line(std::chrono::milliseconds timeout = default_timeout);

  // Reads until the server closes the connection and returns the complete
  // lines that came before. Throws on timeout or if an unfinished line is
  // left at the end.
  std::vector<std::string> read_until_eof(std::chrono::milliseconds timeout = default_timeout);
  // Reads until the server ends the connection in any way (a FIN, an RST, a
  // TLS alert) and returns every byte before, lines or not. Throws on timeout.
  std::string await_close(std::chrono::milliseconds timeout = default_timeout);
  // Exactly `n` bytes, lines or not (a WebSocket's frames). Throws on timeout
  // or when the server closes first.
  std::string read_bytes(std::size_t n, std::chrono::milliseconds timeout = default_timeout);

  // For clients multiplexed with poll(): reads whatever the socket holds now
  // without blocking, then hands out complete lines one by one.
  int fd() const noexcept { return fd_; }
  // Returns false once the server has closed the connection.
  bool receive_available() { return receive(false); }
  std::optional<std::string> take_line();

  // TLS only: the subject CN of the certificate the server presented.
  std::string peer_common_name() const;
  // TLS only: bytes written to the socket beneath TLS, as garbage to it.
  void send_beneath_tls(std::string_view bytes);

  // Ways to go away: a FIN for writing only, a plain close, or an RST.
  void shutdown_write();
  void close();
  void reset();

private:
  void start_tls(const tls_client_options& options);
  // Waits for the socket to become readable (or writable) until `deadline`;
  // throws on timeout, naming what was awaited.
  void await_socket(bool writable, std::chrono::steady_clock::time_point deadline,
                    std::string_view awaiting);
  void send_plain(std::string_view bytes);
  void send_tls(std::string_view bytes);
  // Waits for readability and reads once; false at EOF. Throws on timeout.
  bool receive_some(std::chrono::steady_clock::time_point deadline, std::string_view awaiting,
                    bool abort_is_end = false);
  // Reads what is there; false at EOF. A reset or a TLS failure is an EOF
  // when `abort_is_end`, else it throws.
  bool receive(bool abort_is_end);

  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  // Bytes received but not yet handed out as lines.
  std::string buffer_;
  // Where the unconsumed part of buffer_ begins; compacted lazily.
  std::size_t consumed_ = 0;
  bool eof_ = false;
};

}  // namespace chat::test
