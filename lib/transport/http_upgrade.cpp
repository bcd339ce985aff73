#include "transport/http_upgrade.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <openssl/evp.h>

namespace chat::transport {

namespace http = boost::beast::http;

namespace {

// Request headers past this are refused (431): a request line, a Host, a
// browser's usual dozen headers and some cookies fit many times over.
constexpr std::size_t max_header_bytes = 8 * 1024;

std::string_view view(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(
      a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated header value lists `token` (RFC 7230's #token).
bool lists(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (equal_ignoring_case(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// Sec-WebSocket-Key is 16 random bytes in base64: 22 characters and "==".
bool is_valid_key(std::string_view key) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return key.size() == 24 && key.ends_with("==") &&
         std::ranges::all_of(key.substr(0, 22),
                             [&](char c) { return alphabet.find(c) != std::string_view::npos; });
}

std::string head(unsigned status) {
  const auto reason = http::obsolete_reason(http::int_to_status(status));
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(view(reason)) + "\r\n";
}

}  // namespace

std::string websocket_accept_key(std::string_view key) {
  // RFC 6455 section 1.3: the GUID every server appends.
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(key);
  input += guid;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) !=
      1) {
    return {};
  }
  // 20 bytes: 28 base64 characters and the terminating NUL.
  std::array<unsigned char, 32> encoded{};
  const int size = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(size));
}

struct http_upgrade::parser {
  parser() {
    request.header_limit(max_header_bytes);
    // No request here has a body: one is refused (400), not read.
    request.body_limit(0);
  }
  http::request_parser<http::empty_body> request;
};

http_upgrade::http_upgrade(const websocket_settings& settings)
    : settings_(settings), parser_(std::make_unique<parser>()) {}

http_upgrade::~http_upgrade() = default;

http_upgrade::verdict http_upgrade::put(std::string_view bytes) {
  if (decided_) return verdict::answer;
  unparsed_.append(bytes);
  http::request_parser<http::empty_body>& request = parser_->request;
  while (!request.is_done()) {
    boost::beast::error_code ec;
    const std::size_t used = request.put(boost::asio::buffer(unparsed_), ec);
    unparsed_.erase(0, used);
    if (ec == http::error::need_more) {
      // The parser takes a header only once the whole of it is there; until
      // then unparsed_ holds it, up to the limit.
      if (unparsed_.size() > max_header_bytes) {
        return refuse(431, "the request's header is too large");
      }
      return verdict::need_more;
    }
    if (ec == http::error::header_limit) return refuse(431, "the request's header is too large");
    if (ec) return refuse(400, "the request is not HTTP/1.1 this server understands");
    if (used == 0) return verdict::need_more;
  }
  return decide();
}

http_upgrade::verdict http_upgrade::refuse(unsigned status, std::string_view reason,
                                           std::string_view extra_headers) {
  decided_ = true;
  std::string body(reason);
  body += '\n';
  response_ = head(status);
  response_ += extra_headers;
  response_ +=
      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  response_ += body;
  return verdict::answer;
}

http_upgrade::verdict http_upgrade::decide() {
  const auto& request = parser_->request.get();
  const std::string_view target = view(request.target());
  const std::string_view path = target.substr(0, target.find('?'));
  const bool is_get = request.method() == http::verb::get;
  const bool is_head = request.method() == http::verb::head;

  if (path != settings_.path) {
    std::optional<http_response> answer;
    if (settings_.routes) {
      answer = settings_.routes(
          {view(request.method_string()), path, view(request[http::field::authorization])});
    }
    if (!answer) return refuse(404, "nothing is served at this path");
    decided_ = true;
    response_ = head(answer->status);
    response_ += answer->extra_headers;
    response_ += "Content-Type: " + answer->content_type +
                 "\r\nContent-Length: " + std::to_string(answer->body.size()) +
                 "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                 "Connection: close\r\n\r\n";
    if (!is_head) response_ += answer->body;
    return verdict::answer;
  }

  if (!is_get) return refuse(405, "a WebSocket is opened with GET", "Allow: GET\r\n");
  if (settings_.accepting != nullptr && !settings_.accepting->load(std::memory_order_relaxed)) {
    return refuse(503, "the server is shutting down: connect again, to it or another",
                  "Retry-After: 5\r\n");
  }
  if (!boost::beast::websocket::is_upgrade(request)) {
    return refuse(426, "this path speaks WebSocket only",
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n");
  }
  if (view(request[http::field::sec_websocket_version]) != "13") {
    return refuse(426, "WebSocket version 13 only", "Sec-WebSocket-Version: 13\r\n");
  }
  const std::string_view key = trim(view(request[http::field::sec_websocket_key]));
  if (!is_valid_key(key)) return refuse(400, "Sec-WebSocket-Key is missing or malformed");

  if (request.find(http::field::origin) != request.end()) {
    const std::string_view origin = view(request[http::field::origin]);
    const auto& allowed = settings_.allowed_origins;
    const bool let_in =
        allowed.empty()
            ? equal_ignoring_case(
                  origin, settings_.scheme + "://" + std::string(view(request[http::field::host])))
            : std::ranges::any_of(allowed, [&](const std::string& a) {
                return a == "*" || equal_ignoring_case(a, origin);
              });
    if (!let_in) return refuse(403, "pages from this origin may not connect");
  }

  decided_ = true;
  response_ = head(101);
  response_ += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
               websocket_accept_key(key) + "\r\n";
  if (lists(view(request[http::field::sec_websocket_protocol]), settings_.subprotocol)) {
    response_ += "Sec-WebSocket-Protocol: " + settings_.subprotocol + "\r\n";
  }
  response_ += "\r\n";
  leftover_ = std::move(unparsed_);
  return verdict::upgrade;
}

}  // namespace chat::transport
