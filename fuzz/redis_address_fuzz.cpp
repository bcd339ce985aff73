// parse_address either refuses with address_error (and a message naming
// the text) or gives an address with a host, a port from 1, a db from 0,
// whose to_string() parses back to the same address.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "redis/address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = chat::fuzz::as_text(data, size);
  chat::redis::address parsed;
  try {
    parsed = chat::redis::parse_address(text);
  } catch (const chat::redis::address_error& e) {
    chat::fuzz::require(std::string_view(e.what()).starts_with("bad Redis address '"),
                        "a refusal quotes the text", text);
    return 0;
  }
  chat::fuzz::require(!parsed.host.empty() && parsed.port != 0 && parsed.db >= 0,
                      "an address has a host, a port and a db", text);
  const std::string again = parsed.to_string();
  chat::fuzz::require(chat::redis::parse_address(again) == parsed, "to_string parses back", again);
  return 0;
}
