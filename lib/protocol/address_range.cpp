#include "protocol/address_range.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace chat::protocol {

namespace {

struct address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
};

// inet_pton wants a terminated string; an address is short.
std::optional<address> parse_address(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN + 1];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  address a;
  if (::inet_pton(AF_INET, buffer, a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (::inet_pton(AF_INET6, buffer, a.bytes.data()) != 1) return std::nullopt;
  // An IPv4 peer seen through an IPv6 socket.
  static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), mapped, sizeof mapped) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
    a.v6 = false;
  }
  return a;
}

}  // namespace

std::optional<address_range> address_range::parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  const auto base = parse_address(text.substr(0, slash));
  if (!base) return std::nullopt;
  const unsigned bits = base->v6 ? 128 : 32;
  unsigned prefix = bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        prefix > bits) {
      return std::nullopt;
    }
  }
  address_range range;
  range.v6_ = base->v6;
  range.prefix_ = prefix;
  range.bytes_ = base->bytes;
  for (unsigned bit = prefix; bit < bits; ++bit) {
    range.bytes_[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  char printed[INET6_ADDRSTRLEN];
  ::inet_ntop(range.v6_ ? AF_INET6 : AF_INET, range.bytes_.data(), printed, sizeof printed);
  range.text_ = printed;
  if (prefix != bits) {
    range.text_.push_back('/');
    range.text_.append(std::to_string(prefix));
  }
  return range;
}

bool address_range::contains(std::string_view text) const {
  const auto a = parse_address(text);
  if (!a || a->v6 != v6_) return false;
  for (unsigned bit = 0; bit < prefix_; ++bit) {
    const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((a->bytes[bit / 8] & mask) != (bytes_[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace chat::protocol
