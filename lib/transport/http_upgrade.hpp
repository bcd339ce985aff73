#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::transport {

// A request on the HTTP port that is not a WebSocket upgrade, as far as the
// routes need to see it.
struct http_request {
  std::string_view method;
  std::string_view path;           // the target without its query
  std::string_view authorization;  // the Authorization header, if any
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string extra_headers{};  // each "Name: value\r\n"
};

// Answers what the HTTP port serves besides the upgrade (/healthz and the
// like), any method; nullopt: 404. The body of a HEAD is dropped. Called on
// the connection's thread.
using http_routes = std::function<std::optional<http_response>(const http_request&)>;

struct websocket_settings {
  // The path that upgrades.
  std::string path = "/ws";
  // The subprotocol the server speaks, chosen when the client offers it.
  std::string subprotocol = "chat.v1";
  // Origins a browser page may connect from, compared without regard to
  // case; "*" allows any. Empty: the page's own origin only (the Origin
  // header naming `scheme` and the Host the request was sent to). A request
  // without Origin (not from a browser) is always let in.
  std::vector<std::string> allowed_origins;
  // The scheme of the pages this port serves: "https" over TLS.
  std::string scheme = "http";
  // The largest message a client may send (the server's --max-line).
  std::size_t max_message = 4096;
  http_routes routes;
  // While it says false (a draining server), upgrades are refused with 503
  // and the other paths still answer. Null: always.
  const std::atomic<bool>* accepting = nullptr;
};

// Reads one HTTP/1.1 request from the bytes given and decides what becomes
// of the connection: an upgrade to WebSocket (RFC 6455 section 4.2), or a
// response and the end. Sans-I/O: the transport reads and writes.
class http_upgrade {
public:
  enum class verdict {
    need_more,  // the request is not complete yet
    upgrade,    // write response(), then speak WebSocket; leftover() came after the request
    answer,     // write response(), then close
  };

  explicit http_upgrade(const websocket_settings& settings);
  ~http_upgrade();
  http_upgrade(const http_upgrade&) = delete;
  http_upgrade& operator=(const http_upgrade&) = delete;

  // Takes the bytes read; once the verdict is not need_more, takes no more.
  verdict put(std::string_view bytes);
  const std::string& response() const noexcept { return response_; }
  // Bytes the client sent after its upgrade request (its first frames).
  std::string_view leftover() const noexcept { return leftover_; }

private:
  verdict decide();
  verdict refuse(unsigned status, std::string_view reason, std::string_view extra_headers = {});

  struct parser;
  const websocket_settings& settings_;
  std::unique_ptr<parser> parser_;
  std::string unparsed_;
  std::string response_;
  std::string leftover_;
  bool decided_ = false;
};

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string websocket_accept_key(std::string_view key);

}  // namespace chat::transport
