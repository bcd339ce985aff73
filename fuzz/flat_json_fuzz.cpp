// The fast flat-object reader (flat_json_object) against nlohmann::json, on
// the same valid UTF-8 text. The reader may refuse anything (the server then
// asks nlohmann::json), so a refusal is never a bug. What it accepts, it must
// read as nlohmann::json does:
// - nlohmann::json parses the text, to an object with as many members;
// - each member is there under the same key, find() finds it by that key;
// - a string member: string_value() equals nlohmann's string;
// - a number: is_unsigned exactly when nlohmann has number_unsigned, and
//   then the same value; otherwise a number all the same;
// - true, false, null: the same literal.
// A disagreement on anything else (which error, which duplicate key wins) is
// not the reader's to have: it refuses those.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_input.hpp"
#include "protocol/json_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using chat::fuzz::require;
  using flat = chat::protocol::flat_json_object;
  const std::string_view text = chat::fuzz::as_text(data, size);
  if (!chat::protocol::is_valid_utf8(text)) return 0;
  flat object;
  if (!object.read(text)) return 0;
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  require(!parsed.is_discarded(), "what the reader accepts is JSON", text);
  require(parsed.is_object(), "what the reader accepts is an object", text);
  require(parsed.size() == object.members().size(), "as many members as nlohmann finds", text);
  for (const flat::member& m : object.members()) {
    const auto found = parsed.find(m.key);
    require(found != parsed.end(), "each key is nlohmann's", text);
    require(object.find(m.key) == &m, "find() finds each member", text);
    switch (m.kind) {
      case flat::value_kind::string:
        require(found->is_string(), "a string is a string", text);
        require(flat::string_value(m) == found->get_ref<const std::string&>(),
                "a string has nlohmann's value", text);
        break;
      case flat::value_kind::number:
        require(found->is_number(), "a number is a number", text);
        require(m.is_unsigned == found->is_number_unsigned(), "unsigned as nlohmann says", text);
        if (m.is_unsigned) {
          require(m.unsigned_value == found->get<std::uint64_t>(), "the same integer", text);
        }
        break;
      case flat::value_kind::literal:
        require(nlohmann::json::parse(m.raw, nullptr, false) == *found, "the same literal", text);
        require(found->is_boolean() || found->is_null(), "a literal is true, false or null", text);
        break;
    }
  }
  return 0;
}
