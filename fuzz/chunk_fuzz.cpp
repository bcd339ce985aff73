// A chunk's bytes as the chunk file may hold them, damaged or not:
// unpack_chunk and newest_ts_in_chunk either throw std::runtime_error or
// read it, and they agree on which. A chunk that reads packs back into
// exactly its bytes, and its newest ts is the highest of its messages.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "store/detail/chunk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chat::store;
  using chat::fuzz::require;
  const std::string_view chunk = chat::fuzz::as_text(data, size);
  std::optional<std::vector<stored_message>> messages;
  std::optional<std::int64_t> newest;
  bool newest_threw = false;
  try {
    messages = detail::unpack_chunk(chunk, "lobby");
  } catch (const std::runtime_error&) {
  }
  try {
    newest = detail::newest_ts_in_chunk(chunk);
  } catch (const std::runtime_error&) {
    newest_threw = true;
  }
  require(messages.has_value() != newest_threw, "both readers refuse the same chunks");
  if (!messages) return 0;
  std::string packed;
  std::optional<std::int64_t> highest;
  for (const stored_message& m : *messages) {
    require(m.room == "lobby", "each message is of the room asked for");
    detail::append_to_chunk(packed, m);
    highest = std::max(highest.value_or(m.ts_ms), m.ts_ms);
  }
  require(packed == chunk, "a chunk that reads packs back into its bytes");
  require(newest == highest, "the newest ts is the highest");
  return 0;
}
