#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::protocol {

// An IPv4 or IPv6 network, as a ban names it: `10.0.0.0/8`, `2001:db8::/32`,
// or a bare address (all of its bits: /32, /128). IPv4 peers that reach an
// IPv6 socket as `::ffff:a.b.c.d` match IPv4 ranges.
class address_range {
public:
  // nullopt unless `text` is an address with an optional /PREFIX in range.
  static std::optional<address_range> parse(std::string_view text);

  // Whether `address` (as the server prints a peer: no prefix) is inside.
  bool contains(std::string_view address) const;

  // The canonical text: the network address (host bits cleared) and, unless
  // it names one address, its prefix. Two texts of one range print alike.
  const std::string& text() const noexcept { return text_; }

private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};
  unsigned prefix_ = 0;
  std::string text_;
};

}  // namespace chat::protocol
