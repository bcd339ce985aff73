#include "line_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace chat::test {

namespace {

using clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

[[noreturn]] void fail_errno(const std::string& what) { fail(what + ": " + std::strerror(errno)); }

// The tail of what was received, printable, so a failure shows what came instead.
std::string excerpt(std::string_view bytes) {
  constexpr std::size_t shown = 200;
  if (bytes.size() > shown) bytes = bytes.substr(bytes.size() - shown);
  std::string out;
  for (const char c : bytes) {
    if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out.empty() ? "nothing" : '"' + out + '"';
}

// OpenSSL's reasons for the last failure, oldest first, "; "-separated.
std::string openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    if (!out.empty()) out += "; ";
    out += reason;
  }
  return out.empty() ? "no reason given" : out;
}

int remaining_ms(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

}  // namespace

line_client::line_client(std::uint16_t port, line_client_options options) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail_errno("socket");
  if (options.receive_buffer > 0 &&
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer,
                   sizeof options.receive_buffer) != 0) {
    fail_errno("setsockopt SO_RCVBUF");
  }
  // Tests send small lines back to back; Nagle would hold the second one
  // until the first is acknowledged.
  const int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);

  if (!options.source_address.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (::inet_pton(AF_INET, options.source_address.c_str(), &source.sin_addr) != 1) {
      ::close(fd_);
      fd_ = -1;
      fail("not an IPv4 address: " + options.source_address);
    }
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) {
      const int error = errno;
      ::close(fd_);
      fd_ = -1;
      errno = error;
      fail_errno("bind to " + options.source_address);
    }
  }

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    errno = error;
    fail_errno("connect to 127.0.0.1:" + std::to_string(port));
  }
  if (options.tls) {
    try {
      start_tls(*options.tls);
    } catch (...) {
      close();
      throw;
    }
  }
}

void line_client::start_tls(const tls_client_options& options) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) fail("SSL_CTX_new: " + openssl_errors());
  // Ignoring a missing close_notify: a server that just closes is an EOF to
  // the tests, as it is over plain TCP.
  SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (options.legacy_versions_only) {
    // Security level 0, or OpenSSL 3 would not even offer the old versions.
    SSL_CTX_set_security_level(context, 0);
    SSL_CTX_set_cipher_list(context, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(context, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(context, TLS1_1_VERSION);
  }
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(context, options.ca_file.c_str(), nullptr) != 1) {
      SSL_CTX_free(context);
      fail("loading " + options.ca_file + ": " + openssl_errors());
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  }
  ssl_ = SSL_new(context);
  SSL_CTX_free(context);  // the connection holds its own reference
  if (ssl_ == nullptr) fail("SSL_new: " + openssl_errors());
  SSL_set_tlsext_host_name(ssl_, options.server_name.c_str());
  if (!options.ca_file.empty()) SSL_set1_host(ssl_, options.server_name.c_str());

  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  SSL_set_fd(ssl_, fd_);
  const auto deadline = clock::now() + default_timeout;
  for (;;) {
    const int done = SSL_connect(ssl_);
    if (done == 1) return;
    const int reason = SSL_get_error(ssl_, done);
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
      await_socket(reason == SSL_ERROR_WANT_WRITE, deadline, "the TLS handshake");
      continue;
    }
    std::string why = "TLS handshake failed: " + openssl_errors();
    if (const long verified = SSL_get_verify_result(ssl_); verified != X509_V_OK) {
      why += " (certificate: " + std::string(X509_verify_cert_error_string(verified)) + ")";
    }
    fail(why);
  }
}

void line_client::await_socket(bool writable, clock::time_point deadline,
                               std::string_view awaiting) {
  for (;;) {
    pollfd entry{fd_, static_cast<short>(writable ? POLLOUT : POLLIN), 0};
    const int ready = ::poll(&entry, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) fail_errno("poll");
    if (ready == 0) {
      fail("timed out waiting for " + std::string(awaiting) +
           "; unread: " + excerpt(std::string_view(buffer_).substr(consumed_)));
    }
    return;
  }
}

std::string line_client::peer_common_name() const {
  if (ssl_ == nullptr) fail("peer_common_name: not a TLS client");
  X509* certificate = SSL_get1_peer_certificate(ssl_);
  if (certificate == nullptr) fail("the server presented no certificate");
  char name[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, name, sizeof name);
  X509_free(certificate);
  return name;
}

line_client::~line_client() { close(); }

line_client::line_client(line_client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      buffer_(std::move(other.buffer_)),
      consumed_(other.consumed_),
      eof_(other.eof_) {}

line_client& line_client::operator=(line_client&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    ssl_ = std::exchange(other.ssl_, nullptr);
    buffer_ = std::move(other.buffer_);
    consumed_ = other.consumed_;
    eof_ = other.eof_;
  }
  return *this;
}

void line_client::send_line(std::string_view line) {
  std::string framed(line);
  framed.push_back('\n');
  send_raw(framed);
}

void line_client::send_raw(std::string_view bytes) {
  if (ssl_ != nullptr) {
    send_tls(bytes);
  } else {
    send_plain(bytes);
  }
}

void line_client::send_beneath_tls(std::string_view bytes) {
  if (ssl_ == nullptr) fail("send_beneath_tls: not a TLS client");
  send_plain(bytes);
}

void line_client::send_tls(std::string_view bytes) {
  const auto deadline = clock::now() + default_timeout;
  while (!bytes.empty()) {
    std::size_t sent = 0;
    const int done = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &sent);
    if (done == 1) {
      bytes.remove_prefix(sent);
      continue;
    }
    const int reason = SSL_get_error(ssl_, done);
    if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) {
      fail("TLS write failed: " + openssl_errors());
    }
    // Retried with the same bytes, as OpenSSL requires.
    await_socket(reason == SSL_ERROR_WANT_WRITE, deadline,
                 "room to send: the server stopped reading");
  }
}

void line_client::send_plain(std::string_view bytes) {
  const auto deadline = clock::now() + default_timeout;
  while (!bytes.empty()) {
    await_socket(true, deadline, "room to send: the server stopped reading");
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (sent < 0) fail_errno("send");
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

bool line_client::receive_some(clock::time_point deadline, std::string_view awaiting,
                               bool abort_is_end) {
  await_socket(false, deadline, awaiting);
  return receive(abort_is_end);
}

bool line_client::receive(bool abort_is_end) {
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  char chunk[64 * 1024];
  // Read until OpenSSL needs the socket again, so that no decrypted byte is
  // left inside it while poll() waits on the socket.
  while (ssl_ != nullptr) {
    std::size_t received = 0;
    const int done = SSL_read_ex(ssl_, chunk, sizeof chunk, &received);
    if (done == 1) {
      buffer_.append(chunk, received);
      continue;
    }
    switch (SSL_get_error(ssl_, done)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE: return true;
      case SSL_ERROR_ZERO_RETURN: eof_ = true; return false;
      case SSL_ERROR_SYSCALL:
        if (errno == ECONNRESET && !abort_is_end) {
          fail_errno("TLS read (after " + excerpt(buffer_) + ")");
        }
        eof_ = true;
        return false;
      default:
        if (!abort_is_end) fail("TLS read failed: " + openssl_errors());
        ERR_clear_error();
        eof_ = true;
        return false;
    }
  }
  for (;;) {
    const ssize_t received = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (received > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(received));
      continue;
    }
    if (received == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    if (errno == ECONNRESET && abort_is_end) {
      eof_ = true;
      return false;
    }
    // An RST where a FIN was due loses whatever the server had queued.
    fail_errno("recv (after " + excerpt(buffer_) + ")");
  }
}

std::optional<std::string> line_client::take_line() {
  const std::size_t lf = buffer_.find('\n', consumed_);
  if (lf == std::string::npos) return std::nullopt;
  std::string line = buffer_.substr(consumed_, lf - consumed_);
  consumed_ = lf + 1;
  return line;
}

std::string line_client::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    if (auto line = take_line()) return std::move(*line);
    if (eof_) {
      fail("the server closed the connection while a line was awaited; unread: " +
           excerpt(std::string_view(buffer_).substr(consumed_)));
    }
    receive_some(deadline, "a line");
  }
}

std::vector<std::string> line_client::read_until_eof(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  std::vector<std::string> lines;
  for (;;) {
    while (auto line = take_line()) lines.push_back(std::move(*line));
    if (eof_) break;
    receive_some(deadline, "the server to close the connection");
  }
  if (consumed_ != buffer_.size()) {
    fail("the connection ended inside a line: " +
         excerpt(std::string_view(buffer_).substr(consumed_)));
  }
  return lines;
}

std::string line_client::await_close(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (!eof_) receive_some(deadline, "the server to close the connection", true);
  std::string bytes = buffer_.substr(consumed_);
  consumed_ = buffer_.size();
  return bytes;
}

std::string line_client::read_bytes(std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (buffer_.size() - consumed_ < n) {
    if (eof_) {
      fail("the server closed the connection; " + std::to_string(buffer_.size() - consumed_) +
           " of " + std::to_string(n) + " bytes awaited had come");
    }
    receive_some(deadline, std::to_string(n) + " bytes from the server");
  }
  std::string bytes = buffer_.substr(consumed_, n);
  consumed_ += n;
  return bytes;
}

void line_client::shutdown_write() {
  if (ssl_ != nullptr) SSL_shutdown(ssl_);  // close_notify first, as a TLS peer should
  if (::shutdown(fd_, SHUT_WR) != 0) fail_errno("shutdown");
}

void line_client::close() {
  if (ssl_ != nullptr) SSL_free(std::exchange(ssl_, nullptr));
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void line_client::reset() {
  // Linger on, zero seconds: close() sends an RST instead of a FIN.
  const linger abort_on_close{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  close();
}

}  // namespace chat::test
