#include "redis/address.hpp"

#include <charconv>
#include <climits>

namespace chat::redis {

namespace {

constexpr std::string_view scheme = "redis://";

[[noreturn]] void refuse(std::string_view text, const std::string& why) {
  throw address_error("bad Redis address '" + std::string(text) + "': " + why);
}

// All digits, and the value at most `max`; nothing otherwise.
bool read_number(std::string_view digits, long long max, long long& value) {
  if (digits.empty() || digits.size() > 10) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return error == std::errc{} && end == digits.data() + digits.size() && value <= max;
}

// A host name (RFC 1123 labels) or a dotted IPv4 address, which is one too.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63) return false;
      if (host[i - 1] == '-' || host[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = host[i];
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed) return false;
    ++label;
  }
  return true;
}

// What may stand between brackets: hex digits, colons, and dots for an
// embedded IPv4 address. The resolver judges the rest.
bool is_ipv6_text(std::string_view host) {
  if (host.size() < 2 || host.find(':') == std::string_view::npos) return false;
  for (char c : host) {
    const bool allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                         (c >= 'A' && c <= 'F') || c == ':' || c == '.';
    if (!allowed) return false;
  }
  return true;
}

}  // namespace

std::string address::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out(scheme);
  out += ipv6 ? "[" + host + "]" : host;
  out += ':' + std::to_string(port);
  if (db != 0) out += '/' + std::to_string(db);
  return out;
}

address parse_address(std::string_view text) {
  if (!text.starts_with(scheme)) refuse(text, "it must start with redis://");
  std::string_view rest = text.substr(scheme.size());
  address result;

  std::string_view authority = rest;
  std::string_view db_text;
  bool has_db = false;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    db_text = rest.substr(slash + 1);
    has_db = true;
  }
  if (authority.find('@') != std::string_view::npos) {
    refuse(text, "a user or password is not supported");
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) refuse(text, "an IPv6 address needs its closing ']'");
    host = authority.substr(1, close - 1);
    if (!is_ipv6_text(host)) refuse(text, "'" + std::string(host) + "' is not an IPv6 address");
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') refuse(text, "only ':PORT' may follow ']'");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      if (authority.find(':', colon + 1) != std::string_view::npos) {
        refuse(text, "an IPv6 address must be in brackets, as in redis://[::1]:6379");
      }
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) refuse(text, "the host is missing");
    if (!is_host_name(host)) refuse(text, "'" + std::string(host) + "' is not a host name");
  }
  result.host = std::string(host);

  if (has_port) {
    long long port = 0;
    if (!read_number(port_text, 65535, port) || port == 0) {
      refuse(text, "the port must be a number from 1 to 65535");
    }
    result.port = static_cast<std::uint16_t>(port);
  }
  if (has_db) {
    long long db = 0;
    if (!read_number(db_text, INT_MAX, db)) {
      refuse(text, "the database after '/' must be a number from 0");
    }
    result.db = static_cast<int>(db);
  }
  return result;
}

}  // namespace chat::redis
