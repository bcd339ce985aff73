#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chat::redis {

// Where a Redis server is: what `--redis redis://HOST:PORT/DB` names.
struct address {
  // A name, an IPv4 address or an IPv6 address (without its brackets).
  std::string host;
  std::uint16_t port = 6379;
  // Chosen with SELECT on every connect.
  int db = 0;

  // Back in the form parse_address reads.
  std::string to_string() const;
  friend bool operator==(const address&, const address&) = default;
};

// A text that is not a Redis address; what() says what is wrong with it.
class address_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

// Reads redis://HOST[:PORT][/DB]: HOST a name, an IPv4 address or an IPv6
// address in brackets; PORT 1-65535 (default 6379); DB a number from 0
// (the default; whether the server has that many is for SELECT to say).
// Throws address_error.
address parse_address(std::string_view text);

}  // namespace chat::redis
