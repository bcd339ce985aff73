#pragma once

#include <string>

namespace chat::client {

// How a client checks the server it speaks TLS to. Kept apart from
// connection.hpp so that the command line need not see Asio.
struct tls_options {
  // PEM file of the authorities that may sign the server's certificate;
  // empty: the system's store.
  std::string ca_file{};
  // Accepts any certificate for any name: encrypted, but anyone in between
  // can pose as the server. For test servers with self-made certificates.
  bool insecure = false;
};

}  // namespace chat::client
