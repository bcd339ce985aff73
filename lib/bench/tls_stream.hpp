#pragma once

// chat-bench over TLS: the run's client settings and one connection's stream.
// Internal to chat_bench and included by client.cpp alone, so that Asio's ssl
// headers and OpenSSL's stay out of engine.hpp and the files that include it.

#include <cstddef>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>

#include "bench/options.hpp"

namespace chat::bench::detail {

namespace asio = boost::asio;

// One client context for every connection of a run.
struct tls_settings {
  // Throws std::runtime_error when --ca cannot be used.
  explicit tls_settings(const options& o);

  asio::ssl::context context;
  // Sent as SNI (unless it is an address) and, with --ca, checked against the
  // server's certificate.
  const std::string server_name;
  const bool verify;
};

// TLS over a client's socket. The client keeps the socket: close_client resets
// it whether or not TLS runs over it.
//
// Its reader reads synchronously (read_available) while its sender's
// async_write may be under way. The two share the SSL object, which OpenSSL
// allows, but no buffer of the stream as long as reading never has to write:
// our server neither renegotiates nor asks for a key update.
struct tls_stream {
  tls_stream(asio::ip::tcp::socket& socket, tls_settings& settings);

  asio::ssl::stream<asio::ip::tcp::socket&> stream;
  // An error met after some bytes of a read: the bytes are handled first.
  boost::system::error_code deferred;
};

// Whatever can be decrypted now, up to `into.size()`, from the stream over a
// non-blocking socket: would_block only when there was nothing. A short read
// means that the stream has nothing left, so the socket may be waited for; a
// full one may leave input behind that the socket will not signal again.
std::size_t read_available(tls_stream& s, asio::mutable_buffer into, boost::system::error_code& ec);

// Why a handshake failed, with the certificate's verification result when it
// was refused, and a hint when the peer does not seem to speak TLS at all.
std::string describe_handshake_failure(tls_stream& s, const boost::system::error_code& ec);

}  // namespace chat::bench::detail
