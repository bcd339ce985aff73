#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "line_client.hpp"

namespace chat::test {

struct websocket_client_options {
  std::string path = "/ws";
  // Sent as Origin when set, as a browser does.
  std::optional<std::string> origin{};
  // Offered as Sec-WebSocket-Protocol when set.
  std::optional<std::string> subprotocol{};
  // SO_RCVBUF before connecting; 0 keeps the kernel's default.
  int receive_buffer = 0;
  // Set: wss, to the server's HTTPS port (the same client and checks as
  // line_client's TLS).
  std::optional<tls_client_options> tls{};
};

// How the server ended a WebSocket: its close frame's code and reason.
struct websocket_close {
  std::uint16_t code = 0;
  std::string reason;
};

// A blocking WebSocket client for tests (Beast's, so that the server is
// checked against an implementation other than its own), over TCP or TLS.
// Every read has a deadline; failures are thrown as std::runtime_error.
class websocket_client {
public:
  // Connects and upgrades; throws naming the HTTP status if the server
  // refuses.
  explicit websocket_client(std::uint16_t port, websocket_client_options options = {});
  ~websocket_client();
  websocket_client(websocket_client&&) noexcept;
  websocket_client& operator=(websocket_client&&) noexcept;

  // The subprotocol the server chose, empty if none.
  std::string subprotocol() const;
  // TLS only: the subject CN of the certificate the server presented.
  std::string peer_common_name() const;

  void send_text(std::string_view text);
  void send_binary(std::string_view bytes);
  // One message in fragments of `fragment` bytes.
  void send_fragmented(std::string_view text, std::size_t fragment);

  // The next text message; throws on timeout, a binary message or a close.
  std::string read_text(std::chrono::milliseconds timeout = default_timeout);
  // Reads until the server closes, discarding messages, and returns how.
  websocket_close await_close(std::chrono::milliseconds timeout = default_timeout);
  // Closes from this side with `code` and waits for the server's answer.
  websocket_close close(std::uint16_t code = 1000);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Connects, logs in as `name` with a JSON hello and reads the welcome;
// throws if anything else comes.
websocket_client join_websocket(std::uint16_t port, const std::string& name,
                                websocket_client_options options = {});
// The next message, parsed; throws if it is not JSON.
nlohmann::json read_json(websocket_client& client,
                         std::chrono::milliseconds timeout = default_timeout);

// A client frame (masked, as clients must) with the given first byte
// (FIN, RSV and opcode) and payload.
std::string masked_frame(std::uint8_t first_byte, std::string_view payload);

// A server frame as it came: its first byte and its payload.
struct raw_frame {
  std::uint8_t first_byte = 0;
  std::string payload;
  std::uint8_t opcode() const noexcept { return first_byte & 0x0f; }
  // Of a close frame; 0 when it has no code.
  std::uint16_t close_code() const noexcept;
};

// A TCP (or TLS) connection upgraded by hand, for the bytes no WebSocket
// library would send: frames unmasked, bad UTF-8, oversized, reserved bits.
class raw_websocket {
public:
  // Of `options`, only receive_buffer and tls count. `with_request` goes in
  // the same write as the upgrade request (frames sent without waiting for
  // the 101).
  explicit raw_websocket(std::uint16_t port, const websocket_client_options& options = {},
                         std::string_view with_request = {});
  void send(std::string_view bytes);
  // The next frame the server sends; throws on timeout or close.
  raw_frame read_frame(std::chrono::milliseconds timeout = default_timeout);
  // Frames until the close frame, which is returned; throws if the
  // connection ends without one.
  raw_frame read_until_close(std::chrono::milliseconds timeout = default_timeout);

private:
  // Exactly n bytes; throws on timeout or close.
  std::string read_bytes(std::size_t n, std::chrono::steady_clock::time_point deadline);
  line_client connection_;
};

struct http_reply {
  unsigned status = 0;
  std::string head;  // the status line and the headers
  std::string body;
};

// Sends `request` as it is to the port (over TLS with `over.tls`: the
// HTTPS port) and reads the response until the server closes the connection.
http_reply http_exchange(std::uint16_t port, std::string_view request,
                         const line_client_options& over = {},
                         std::chrono::milliseconds timeout = default_timeout);
// A GET of `path` with a Host header and nothing else.
http_reply http_get(std::uint16_t port, std::string_view path,
                    const line_client_options& over = {});

}  // namespace chat::test
