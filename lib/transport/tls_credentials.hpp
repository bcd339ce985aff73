#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct ssl_st;

namespace chat::transport {

// A certificate chain and private key that cannot be used, in one line that
// names the file and the reason.
class tls_setup_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The server's TLS settings and its current certificate and key. Reloading
// swaps in a new pair for later handshakes; connections made before keep the
// pair they were made with (each holds a reference to its context).
//
// Every context is TLS 1.2 or 1.3 only, with Mozilla's "intermediate"
// ciphers, no compression, no renegotiation, and record buffers released
// while empty (SSL_MODE_RELEASE_BUFFERS), so idle connections stay small.
class tls_credentials {
public:
  // Loads the PEM files; throws tls_setup_error. `warn` hears of problems
  // that do not stop the server (an expired certificate).
  tls_credentials(std::string cert_file, std::string key_file,
                  std::function<void(std::string_view)> warn);
  ~tls_credentials();
  tls_credentials(const tls_credentials&) = delete;
  tls_credentials& operator=(const tls_credentials&) = delete;

  // Reads the files again. On success later handshakes use the new pair;
  // otherwise the old one stays and the reason is returned. Thread-safe.
  std::optional<std::string> reload();

  // A new server-side connection with the current pair, owned by the caller
  // (tls_transport); null when OpenSSL is out of memory. Thread-safe.
  ssl_st* new_connection();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::transport
