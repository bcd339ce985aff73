#include "bench/tls_stream.hpp"

#include <stdexcept>
#include <system_error>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace chat::bench::detail {

namespace {

bool is_address(const std::string& name) {
  boost::system::error_code ec;
  asio::ip::make_address(name, ec);
  return !ec;
}

}  // namespace

tls_settings::tls_settings(const options& o)
    : context(asio::ssl::context::tls_client),
      server_name(o.server_name.empty() ? o.host : o.server_name),
      verify(!o.ca_file.empty()) {
  SSL_CTX* ctx = context.native_handle();
  // What the server accepts.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // connect holds thousands of idle clients: their record buffers go back
  // while empty.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (!verify) {
    context.set_verify_mode(asio::ssl::verify_none);
    // verify_none still checks the chain, only to report the result: a
    // twentieth of the generator's share of a handshake, for nothing.
    SSL_CTX_set_cert_verify_callback(
        ctx, [](X509_STORE_CTX*, void*) { return 1; }, nullptr);
    return;
  }
  boost::system::error_code ec;
  context.load_verify_file(o.ca_file, ec);
  if (ec) {
    throw std::runtime_error("cannot use --ca " + o.ca_file + ": " + std::error_code(ec).message());
  }
  context.set_verify_mode(asio::ssl::verify_peer);
}

tls_stream::tls_stream(asio::ip::tcp::socket& socket, tls_settings& settings)
    : stream(socket, settings.context) {
  SSL* const ssl = stream.native_handle();
  const char* const name = settings.server_name.c_str();
  const bool address = is_address(settings.server_name);
  // SNI takes host names only (RFC 6066).
  if (!address) SSL_set_tlsext_host_name(ssl, name);
  if (!settings.verify) return;
  // Checked by OpenSSL itself, which then says which name did not match.
  X509_VERIFY_PARAM* const checks = SSL_get0_param(ssl);
  if (address) X509_VERIFY_PARAM_set1_ip_asc(checks, name);
  else X509_VERIFY_PARAM_set1_host(checks, name, 0);
}

std::size_t read_available(tls_stream& s, asio::mutable_buffer into,
                           boost::system::error_code& ec) {
  if (s.deferred) {
    ec = s.deferred;
    return 0;
  }
  // Each call decrypts one record at most; the socket is read for more only
  // when the stream holds no whole record.
  std::size_t total = 0;
  while (total < into.size()) {
    total += s.stream.read_some(into + total, ec);
    if (!ec) continue;
    if (total == 0) return 0;
    if (ec != asio::error::would_block && ec != asio::error::try_again) s.deferred = ec;
    ec = {};
    break;
  }
  return total;
}

std::string describe_handshake_failure(tls_stream& s, const boost::system::error_code& ec) {
  std::string why = "TLS handshake failed: " + std::error_code(ec).message();
  SSL* const ssl = s.stream.native_handle();
  // Unverified connections have a verification result too: it failed nothing.
  const bool verifying = (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0;
  const long verified = SSL_get_verify_result(ssl);
  if (verifying && verified != X509_V_OK) {
    why += std::string(" (certificate: ") + X509_verify_cert_error_string(verified) + ")";
  } else if (ec.category() == asio::error::get_ssl_category()) {
    // A plain port answers a ClientHello with its first line.
    why += "; is this port the server's TLS port (chat-server --tls-port)?";
  }
  return why;
}

}  // namespace chat::bench::detail
