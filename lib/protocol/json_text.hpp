#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace chat::protocol {

// Appends `text` (valid UTF-8) as a JSON string literal, quotes included.
// Hand-written because building an nlohmann::json per outgoing frame would
// cost an allocation per field on the hottest path of the server.
void append_json_string(std::string& out, std::string_view text);

// The first byte of `text` at or after `pos` that a JSON string cannot hold
// as it is ('"', '\\' or a control character), or text.size(): when there is
// none, the literal of `text` is `text` between quotes.
std::size_t find_json_special(std::string_view text, std::size_t pos = 0) noexcept;

}  // namespace chat::protocol

namespace chat::protocol {

// The source text of member `key` of the JSON object `object_text`, which
// must already be known to be valid JSON; nullopt when the member is absent.
// Echoing a client's value from its own text keeps it exact where a parsed
// and re-serialised one would not be (integers beyond 64 bits).
std::optional<std::string_view> raw_member(std::string_view object_text, std::string_view key);

}  // namespace chat::protocol

namespace chat::protocol {

// A JSON object whose members are all scalars (strings, numbers, true, false,
// null), read in place: the requests clients send most, read without the
// allocations of building a DOM. What it does not take (nested values, keys
// written with escapes or given twice, numbers with an exponent, more than
// max_members members, any syntax error) it leaves to a full JSON parser,
// which also says what is wrong; so it only has to be right about what it
// accepts, and it accepts exactly what that parser reads the same way.
class flat_json_object {
public:
  static constexpr std::size_t max_members = 8;

  enum class value_kind : std::uint8_t { string, number, literal };

  struct member {
    std::string_view key;
    // The value as written: a string with its quotes, a number's digits,
    // `true`, `false` or `null`.
    std::string_view raw;
    value_kind kind;
    // A string with backslash escapes, which decoding has to resolve.
    bool escaped;
    // A number without sign, fraction or exponent that fits 64 bits: what
    // nlohmann::json calls number_unsigned.
    bool is_unsigned;
    std::uint64_t unsigned_value;
  };

  flat_json_object() = default;
  // Its members view a frame and may be left unread: never worth a copy.
  flat_json_object(const flat_json_object&) = delete;
  flat_json_object& operator=(const flat_json_object&) = delete;

  // Reads `text` (valid UTF-8); false unless it is such an object, and then
  // the members are unspecified. The members view `text`, which must outlive
  // them.
  [[nodiscard]] bool read(std::string_view text);

  // nullptr when there is no member `key`. Inline, with a memcmp over the
  // length of `key`, so that a key known at compile time compares as one or
  // two integers instead of through a call.
  const member* find(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
      const std::string_view candidate = members_[i].key;
      if (candidate.size() == key.size() &&
          std::memcmp(candidate.data(), key.data(), key.size()) == 0) {
        return &members_[i];
      }
    }
    return nullptr;
  }
  std::span<const member> members() const noexcept { return {members_.data(), size_}; }

  // The value of a string member, its escapes decoded.
  static std::string string_value(const member& string_member);
  // The same into `out`, reusing its buffer.
  static void string_value(const member& string_member, std::string& out);

private:
  // Left uninitialised: read() fills what it uses, and it runs per request.
  std::array<member, max_members> members_;
  std::size_t size_ = 0;
};

}  // namespace chat::protocol
