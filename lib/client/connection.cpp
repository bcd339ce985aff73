#include "client/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <stdexcept>
#include <system_error>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace chat::client {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using io_result = std::tuple<boost::system::error_code, std::size_t>;

namespace detail {

// What a connection reads and writes. Like a socket, it takes one read and
// one write at once.
class byte_stream {
public:
  virtual ~byte_stream() = default;
  // The TCP socket beneath, for its options and for closing it.
  virtual tcp::socket& socket() noexcept = 0;
  virtual asio::awaitable<io_result> read_some(asio::mutable_buffer into) = 0;
  // All of `bytes`, or an error.
  virtual asio::awaitable<io_result> write(asio::const_buffer bytes) = 0;
};

}  // namespace detail

namespace {

constexpr std::size_t read_size = 16 * 1024;

class tcp_stream final : public detail::byte_stream {
public:
  explicit tcp_stream(tcp::socket socket) : socket_(std::move(socket)) {}

  tcp::socket& socket() noexcept override { return socket_; }
  asio::awaitable<io_result> read_some(asio::mutable_buffer into) override {
    return socket_.async_read_some(into, asio::as_tuple(asio::use_awaitable));
  }
  asio::awaitable<io_result> write(asio::const_buffer bytes) override {
    return asio::async_write(socket_, bytes, asio::as_tuple(asio::use_awaitable));
  }

private:
  tcp::socket socket_;
};

// asio::ssl::stream, for all its two 17 KiB record buffers beside OpenSSL's:
// the server cannot afford them per client (transport/tls_transport.hpp), a
// client with one connection can.
class tls_stream final : public detail::byte_stream {
public:
  tls_stream(ssl::context context, tcp::socket socket)
      : context_(std::move(context)), stream_(std::move(socket), context_) {}

  ssl::stream<tcp::socket>& stream() noexcept { return stream_; }

  tcp::socket& socket() noexcept override { return stream_.next_layer(); }
  asio::awaitable<io_result> read_some(asio::mutable_buffer into) override {
    return stream_.async_read_some(into, asio::as_tuple(asio::use_awaitable));
  }
  asio::awaitable<io_result> write(asio::const_buffer bytes) override {
    return asio::async_write(stream_, bytes, asio::as_tuple(asio::use_awaitable));
  }

private:
  // The stream's SSL object was made from it and refers to it.
  ssl::context context_;
  ssl::stream<tcp::socket> stream_;
};

// boost::system::system_error appends "[system:111]" to what(); the std
// flavour keeps the message readable for people.
[[noreturn]] void fail(const boost::system::error_code& ec, const std::string& context) {
  if (context.empty()) throw std::system_error(std::error_code(ec));
  throw std::system_error(std::error_code(ec), context);
}

// OpenSSL's reason alone: Asio's message appends the library's name.
std::string reason_of(const boost::system::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return ec.message();
  const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(ec.value());
}

// Made before anything goes on the network, so that a bad --ca fails at once.
ssl::context client_context(const tls_options& tls) {
  ssl::context context(ssl::context::tls_client);
  SSL_CTX* ctx = context.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (tls.insecure) {
    context.set_verify_mode(ssl::verify_none);
    return context;
  }
  context.set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (tls.ca_file.empty()) {
    context.set_default_verify_paths(ec);
  } else {
    context.load_verify_file(tls.ca_file, ec);
  }
  if (ec) {
    const std::string what =
        tls.ca_file.empty() ? "the system's certificate store" : "--ca " + tls.ca_file;
    throw std::runtime_error("cannot use " + what + ": " + reason_of(ec));
  }
  return context;
}

// Sends the name the server is known by (SNI, for a server that hosts
// several) and has OpenSSL check that the certificate is for it. False when
// OpenSSL refuses the name (one over 255 bytes, say).
bool expect_name(SSL* ssl, const std::string& host, const tls_options& tls) {
  boost::system::error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  if (!not_an_address) {
    // SNI carries names only (RFC 6066); an address is checked as one.
    return tls.insecure || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return false;
  if (tls.insecure) return true;
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host(ssl, host.c_str()) == 1;
}

// Why the server's certificate was refused, in the words of someone who only
// wanted to chat; OpenSSL's own words for the rare cases.
std::string certificate_refusal(long verdict, const std::string& host) {
  switch (verdict) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return "the server's certificate is self-signed: nothing vouches for it"
             " (--ca FILE trusts it)";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "the server's certificate is signed by an authority this client does not trust"
             " (--ca FILE names one to trust)";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return "the server's certificate is not for " + host;
    case X509_V_ERR_CERT_HAS_EXPIRED: return "the server's certificate has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID: return "the server's certificate is not valid yet";
    default:
      return std::string("the server's certificate was refused: ") +
             X509_verify_cert_error_string(verdict);
  }
}

std::string handshake_failure(SSL* ssl, const boost::system::error_code& ec,
                              const std::string& host, std::uint16_t port) {
  const std::string hint = " (is " + std::to_string(port) + " the server's TLS port?)";
  if (ec == ssl::error::stream_truncated || ec == asio::error::eof) {
    return "the server closed the connection during the TLS handshake" + hint;
  }
  if (ec.category() != asio::error::get_ssl_category()) {
    return "TLS handshake failed: " + ec.message();
  }
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    return certificate_refusal(SSL_get_verify_result(ssl), host);
  }
  // Reasons from this offset on are alerts the server sent.
  if (reason >= SSL_AD_REASON_OFFSET) {
    return "the server refused the TLS handshake: " + reason_of(ec);
  }
  // A server that speaks no TLS answers with bytes that are no TLS record.
  return "TLS handshake failed: " + reason_of(ec) + hint;
}

}  // namespace

std::string format_address(std::string_view host, std::uint16_t port) {
  std::string out;
  const bool ipv6_literal = host.find(':') != std::string_view::npos;
  if (ipv6_literal) out.push_back('[');
  out.append(host);
  if (ipv6_literal) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

asio::awaitable<connection> connection::connect(asio::any_io_executor executor, std::string host,
                                                std::uint16_t port,
                                                std::optional<tls_options> tls) {
  std::optional<ssl::context> context;
  if (tls) context.emplace(client_context(*tls));

  tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(
      host, std::to_string(port), asio::as_tuple(asio::use_awaitable));
  if (resolve_error) fail(resolve_error, "cannot resolve " + host);

  const std::string cannot_connect = "cannot connect to " + format_address(host, port);
  tcp::socket socket(executor);
  auto [connect_error, endpoint] =
      co_await asio::async_connect(socket, endpoints, asio::as_tuple(asio::use_awaitable));
  if (connect_error) fail(connect_error, cannot_connect);
  if (!tls) co_return connection(std::move(socket));

  auto secured = std::make_unique<tls_stream>(std::move(*context), std::move(socket));
  SSL* ssl = secured->stream().native_handle();
  if (!expect_name(ssl, host, *tls)) {
    throw std::runtime_error(cannot_connect + ": TLS cannot check the name " + host);
  }
  auto [handshake_error] = co_await secured->stream().async_handshake(
      ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (handshake_error) {
    throw std::runtime_error(cannot_connect + ": " +
                             handshake_failure(ssl, handshake_error, host, port));
  }
  co_return connection(std::move(secured), default_max_frame);
}

connection::connection(tcp::socket socket, std::size_t max_frame)
    : connection(std::make_unique<tcp_stream>(std::move(socket)), max_frame) {}

connection::connection(std::unique_ptr<detail::byte_stream> stream, std::size_t max_frame)
    : stream_(std::move(stream)), inbox_(max_frame, read_size) {}

connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;

asio::awaitable<std::optional<std::string>> connection::read_frame() {
  for (;;) {
    if (auto line = inbox_.next()) {
      if (line->too_long) {
        fail(make_error_code(boost::system::errc::message_size),
             "the server sent a frame longer than " + std::to_string(inbox_.max_line()) + " bytes");
      }
      co_return std::move(line->text);
    }
    if (closed_by_peer_) co_return std::nullopt;
    const auto space = inbox_.space();
    auto [ec, count] = co_await stream_->read_some(asio::buffer(space.data(), space.size()));
    if (ec == asio::error::eof) {
      closed_by_peer_ = true;
      inbox_.commit_end_of_stream();
      continue;
    }
    if (ec == ssl::error::stream_truncated) {
      // The TCP connection ended without TLS's close_notify: anyone in
      // between could have cut it, so an unfinished last frame is dropped
      // rather than shown whole. The server itself never leaves one.
      closed_by_peer_ = true;
      continue;
    }
    if (ec) fail(ec, {});
    inbox_.commit(count);
  }
}

asio::awaitable<void> connection::write(std::string_view bytes) {
  auto [ec, count] = co_await stream_->write(asio::buffer(bytes.data(), bytes.size()));
  if (ec) fail(ec, {});
}

void connection::enable_keepalive() noexcept {
  // First probe after 30 s of silence, then every 10 s; 3 unanswered probes
  // end the connection with ETIMEDOUT. Best effort: failures change nothing.
  const int native = stream_->socket().native_handle();
  const int on = 1, idle = 30, interval = 10, count = 3;
  ::setsockopt(native, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(native, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(native, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(native, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

// TLS ends without a close_notify from us: by then the server has our quit,
// or we are leaving on an error, and it takes a bare EOF as the end.
void connection::close() noexcept {
  boost::system::error_code ignored;
  stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_->socket().close(ignored);
}

}  // namespace chat::client
