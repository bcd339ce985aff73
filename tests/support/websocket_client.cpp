#include "websocket_client.hpp"

#include <optional>
#include <random>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace chat::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

int remaining_ms(clock_type::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

struct websocket_client::impl {
  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  // One of the two: ws:// or wss://.
  std::optional<websocket::stream<tcp::socket>> plain;
  std::optional<websocket::stream<asio::ssl::stream<tcp::socket>>> secure;
  beast::flat_buffer buffer;
  std::string subprotocol;

  // Calls `f` with the stream in use.
  template <class F>
  void visit(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }

  // Runs the async operation `start` begins until it completes or the
  // deadline passes; a timeout cancels it and throws.
  template <class Start>
  std::size_t run(Start start, std::chrono::milliseconds timeout, const char* awaited) {
    io.restart();
    bool done = false;
    beast::error_code result;
    std::size_t bytes = 0;
    start([&](beast::error_code ec, std::size_t n = 0) {
      done = true;
      result = ec;
      bytes = n;
    });
    io.run_for(timeout);
    if (!done) {
      beast::error_code ignored;
      visit([&](auto& ws) { beast::get_lowest_layer(ws).cancel(ignored); });
      io.restart();
      io.run();
      fail(std::string("timed out awaiting ") + awaited);
    }
    if (result) throw beast::system_error(result);
    return bytes;
  }
};

websocket_client::websocket_client(std::uint16_t port, websocket_client_options options)
    : impl_(std::make_unique<impl>()) {
  tcp::socket socket(impl_->io);
  socket.open(tcp::v4());
  if (options.receive_buffer > 0) {
    socket.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer));
  }
  socket.connect({asio::ip::address_v4::loopback(), port});
  if (options.tls) {
    const tls_client_options& tls = *options.tls;
    if (!tls.ca_file.empty()) {
      impl_->tls.load_verify_file(tls.ca_file);
      impl_->tls.set_verify_mode(asio::ssl::verify_peer);
    }
    auto& ws = impl_->secure.emplace(std::move(socket), impl_->tls);
    SSL* ssl = ws.next_layer().native_handle();
    SSL_set_tlsext_host_name(ssl, tls.server_name.c_str());
    if (!tls.ca_file.empty()) SSL_set1_host(ssl, tls.server_name.c_str());
    try {
      impl_->run(
          [&](auto done) {
            ws.next_layer().async_handshake(asio::ssl::stream_base::client,
                                            [done](beast::error_code ec) mutable { done(ec); });
          },
          default_timeout, "the TLS handshake");
    } catch (const beast::system_error& e) {
      std::string why = "TLS handshake failed: " + e.code().message();
      if (const long verified = SSL_get_verify_result(ssl); verified != X509_V_OK) {
        why += " (certificate: " + std::string(X509_verify_cert_error_string(verified)) + ")";
      }
      fail(why);
    }
  } else {
    impl_->plain.emplace(std::move(socket));
  }
  websocket::response_type response;
  impl_->visit([&](auto& ws) {
    ws.set_option(websocket::stream_base::decorator([options](websocket::request_type& r) {
      if (options.origin) r.set(beast::http::field::origin, *options.origin);
      if (options.subprotocol)
        r.set(beast::http::field::sec_websocket_protocol, *options.subprotocol);
    }));
    ws.read_message_max(16 << 20);
    try {
      impl_->run(
          [&](auto done) {
            ws.async_handshake(response, "127.0.0.1:" + std::to_string(port), options.path,
                               [done](beast::error_code ec) mutable { done(ec); });
          },
          default_timeout, "the upgrade");
    } catch (const beast::system_error& e) {
      fail("the upgrade was refused (" + std::to_string(response.result_int()) +
           "): " + e.code().message());
    }
  });
  impl_->subprotocol = std::string(response[beast::http::field::sec_websocket_protocol]);
}

websocket_client::~websocket_client() = default;
websocket_client::websocket_client(websocket_client&&) noexcept = default;
websocket_client& websocket_client::operator=(websocket_client&&) noexcept = default;

std::string websocket_client::subprotocol() const { return impl_->subprotocol; }

std::string websocket_client::peer_common_name() const {
  if (!impl_->secure) fail("peer_common_name: not a TLS client");
  X509* certificate = SSL_get1_peer_certificate(impl_->secure->next_layer().native_handle());
  if (certificate == nullptr) fail("the server presented no certificate");
  char name[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, name, sizeof name);
  X509_free(certificate);
  return name;
}

void websocket_client::send_text(std::string_view text) {
  impl_->visit([&](auto& ws) {
    ws.text(true);
    impl_->run([&](auto done) { ws.async_write(asio::buffer(text), done); }, default_timeout,
               "a write");
  });
}

void websocket_client::send_binary(std::string_view bytes) {
  impl_->visit([&](auto& ws) {
    ws.binary(true);
    impl_->run([&](auto done) { ws.async_write(asio::buffer(bytes), done); }, default_timeout,
               "a write");
  });
}

void websocket_client::send_fragmented(std::string_view text, std::size_t fragment) {
  impl_->visit([&](auto& ws) {
    ws.text(true);
    for (std::size_t at = 0; at < text.size(); at += fragment) {
      const std::string_view part = text.substr(at, fragment);
      const bool last = at + fragment >= text.size();
      impl_->run([&](auto done) { ws.async_write_some(last, asio::buffer(part), done); },
                 default_timeout, "a write");
    }
  });
}

std::string websocket_client::read_text(std::chrono::milliseconds timeout) {
  impl_->buffer.clear();
  bool text = false;
  impl_->visit([&](auto& ws) {
    impl_->run([&](auto done) { ws.async_read(impl_->buffer, done); }, timeout, "a text message");
    text = ws.got_text();
  });
  if (!text) fail("a binary message came where text was awaited");
  return beast::buffers_to_string(impl_->buffer.data());
}

websocket_close websocket_client::await_close(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  websocket_close result;
  impl_->visit([&](auto& ws) {
    for (;;) {
      impl_->buffer.clear();
      try {
        impl_->run([&](auto done) { ws.async_read(impl_->buffer, done); },
                   std::chrono::milliseconds(remaining_ms(deadline)), "the server's close");
      } catch (const beast::system_error& e) {
        // The server closes the TCP connection once its close frame is out,
        // and Beast may fail to shut down a connection already gone: the
        // close frame came all the same.
        const websocket::close_reason& why = ws.reason();
        if (e.code() != websocket::error::closed && why.code == websocket::close_code::none) {
          throw;
        }
        result = {static_cast<std::uint16_t>(why.code), std::string(why.reason.c_str())};
        return;
      }
    }
  });
  return result;
}

websocket_close websocket_client::close(std::uint16_t code) {
  websocket_close result;
  impl_->visit([&](auto& ws) {
    impl_->run(
        [&](auto done) {
          ws.async_close(websocket::close_reason(code),
                         [done](beast::error_code ec) mutable { done(ec); });
        },
        default_timeout, "the close handshake");
    const websocket::close_reason& why = ws.reason();
    result = {static_cast<std::uint16_t>(why.code), std::string(why.reason.c_str())};
  });
  return result;
}

websocket_client join_websocket(std::uint16_t port, const std::string& name,
                                websocket_client_options options) {
  websocket_client client(port, std::move(options));
  client.send_text(nlohmann::json{{"type", "hello"}, {"user", name}}.dump());
  const nlohmann::json welcome = read_json(client);
  if (welcome["type"] != "welcome") {
    fail("expected a welcome for " + name + ", got " + welcome.dump());
  }
  return client;
}

nlohmann::json read_json(websocket_client& client, std::chrono::milliseconds timeout) {
  return nlohmann::json::parse(client.read_text(timeout));
}

std::string masked_frame(std::uint8_t first_byte, std::string_view payload) {
  std::string frame(1, static_cast<char>(first_byte));
  const std::size_t n = payload.size();
  if (n < 126) {
    frame += static_cast<char>(0x80 | n);
  } else if (n <= 0xffff) {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(n >> 8);
    frame += static_cast<char>(n & 0xff);
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) frame += static_cast<char>((n >> shift) & 0xff);
  }
  static thread_local std::mt19937 random{std::random_device{}()};
  char mask[4];
  for (char& m : mask) m = static_cast<char>(random() & 0xff);
  frame.append(mask, 4);
  for (std::size_t i = 0; i < n; ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

std::uint16_t raw_frame::close_code() const noexcept {
  if (payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                    static_cast<unsigned char>(payload[1]));
}

raw_websocket::raw_websocket(std::uint16_t port, const websocket_client_options& options,
                             std::string_view with_request)
    : connection_(port, {.receive_buffer = options.receive_buffer, .tls = options.tls}) {
  send(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
      std::string(with_request));
  const auto deadline = clock_type::now() + default_timeout;
  std::string head;
  while (!head.ends_with("\r\n\r\n")) head += read_bytes(1, deadline);
  if (!head.starts_with("HTTP/1.1 101 ")) fail("the upgrade was refused: " + head);
}

void raw_websocket::send(std::string_view bytes) { connection_.send_raw(bytes); }

std::string raw_websocket::read_bytes(std::size_t n, clock_type::time_point deadline) {
  return connection_.read_bytes(n, std::chrono::milliseconds(remaining_ms(deadline)));
}

raw_frame raw_websocket::read_frame(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  const std::string start = read_bytes(2, deadline);
  raw_frame frame{.first_byte = static_cast<std::uint8_t>(start[0]), .payload = {}};
  const auto second = static_cast<unsigned char>(start[1]);
  if (second & 0x80) fail("the server masked a frame");
  std::uint64_t size = second & 0x7f;
  const std::size_t extra = size == 126 ? 2 : size == 127 ? 8 : 0;
  if (extra != 0) {
    size = 0;
    for (const char c : read_bytes(extra, deadline))
      size = (size << 8) | static_cast<unsigned char>(c);
  }
  frame.payload = read_bytes(static_cast<std::size_t>(size), deadline);
  return frame;
}

raw_frame raw_websocket::read_until_close(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  for (;;) {
    raw_frame frame = read_frame(std::chrono::milliseconds(remaining_ms(deadline)));
    if (frame.opcode() == 0x8) return frame;
  }
}

http_reply http_exchange(std::uint16_t port, std::string_view request,
                         const line_client_options& over, std::chrono::milliseconds timeout) {
  line_client connection(port, over);
  connection.send_raw(request);
  const std::string all = connection.await_close(timeout);
  http_reply reply;
  const std::size_t end_of_head = all.find("\r\n\r\n");
  if (end_of_head == std::string::npos) fail("no HTTP response came: " + all);
  reply.head = all.substr(0, end_of_head);
  reply.body = all.substr(end_of_head + 4);
  if (!reply.head.starts_with("HTTP/1.1 ") || reply.head.size() < 12) {
    fail("not an HTTP/1.1 response: " + reply.head);
  }
  reply.status = static_cast<unsigned>(std::stoul(reply.head.substr(9, 3)));
  return reply;
}

http_reply http_get(std::uint16_t port, std::string_view path, const line_client_options& over) {
  return http_exchange(port, "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                       over);
}

}  // namespace chat::test
