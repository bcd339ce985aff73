#include "transport/tls_credentials.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace chat::transport {

namespace asio = boost::asio;

namespace {

// Mozilla's "intermediate" configuration (TLS 1.2 ciphers; TLS 1.3 keeps
// OpenSSL's suites, which are the same three).
constexpr const char* intermediate_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
constexpr const char* intermediate_groups = "X25519:P-256:P-384";

std::string openssl_reason() {
  const unsigned long error = ERR_get_error();
  ERR_clear_error();
  if (error == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(error);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(error);
}

// Missing and unreadable files are told apart from bad contents, which
// OpenSSL reports less clearly.
void check_readable(std::string_view flag, const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    throw tls_setup_error("cannot read " + std::string(flag) + " " + file + ": no such file");
  }
  if (std::ifstream(file).fail()) {
    throw tls_setup_error("cannot read " + std::string(flag) + " " + file + ": permission denied");
  }
}

std::shared_ptr<asio::ssl::context> make_context(
    const std::string& cert_file, const std::string& key_file,
    const std::function<void(std::string_view)>& warn) {
  check_readable("--cert", cert_file);
  check_readable("--key", key_file);
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Resumption by tickets only: a server-side cache would keep memory for
  // every client that ever connected.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_cipher_list(ctx, intermediate_ciphers) != 1 ||
      SSL_CTX_set1_groups_list(ctx, intermediate_groups) != 1) {
    throw tls_setup_error("cannot set up TLS: " + openssl_reason());
  }
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    throw tls_setup_error("cannot use --cert " + cert_file + ": " + openssl_reason() +
                          " (expected a PEM certificate chain)");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw tls_setup_error("cannot use --key " + key_file + ": " + openssl_reason() +
                          " (expected the PEM private key of --cert " + cert_file + ")");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw tls_setup_error("--key " + key_file + " does not belong to --cert " + cert_file + ": " +
                          openssl_reason());
  }
  if (X509* leaf = SSL_CTX_get0_certificate(ctx); leaf != nullptr) {
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
      warn("--cert " + cert_file + " has expired: clients that check it will refuse to connect");
    } else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
      warn("--cert " + cert_file + " is not valid yet");
    }
  }
  return context;
}

}  // namespace

struct tls_credentials::impl {
  std::string cert_file;
  std::string key_file;
  std::function<void(std::string_view)> warn;
  std::mutex mutex;
  std::shared_ptr<asio::ssl::context> current;
};

tls_credentials::tls_credentials(std::string cert_file, std::string key_file,
                                 std::function<void(std::string_view)> warn)
    : impl_(std::make_unique<impl>()) {
  impl_->cert_file = std::move(cert_file);
  impl_->key_file = std::move(key_file);
  impl_->warn = std::move(warn);
  impl_->current = make_context(impl_->cert_file, impl_->key_file, impl_->warn);
}

tls_credentials::~tls_credentials() = default;

std::optional<std::string> tls_credentials::reload() {
  std::shared_ptr<asio::ssl::context> fresh;
  try {
    fresh = make_context(impl_->cert_file, impl_->key_file, impl_->warn);
  } catch (const std::exception& e) {
    return e.what();
  }
  std::lock_guard lock(impl_->mutex);
  impl_->current.swap(fresh);
  return std::nullopt;
}

ssl_st* tls_credentials::new_connection() {
  std::shared_ptr<asio::ssl::context> context;
  {
    std::lock_guard lock(impl_->mutex);
    context = impl_->current;
  }
  // The connection holds a reference to its context: a reload does not pull
  // the certificate from under a handshake.
  return SSL_new(context->native_handle());
}

}  // namespace chat::transport
