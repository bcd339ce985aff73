#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chat::protocol {

// Appends `text` (valid UTF-8) as a JSON string literal, quotes included.
// Hand-written because building an nlohmann::json per outgoing frame would
// cost an allocation per field on the hottest path of the server.
void append_json_string(std::string& out, std::string_view text);

}  // namespace chat::protocol

namespace chat::protocol {

// The source text of member `key` of the JSON object `object_text`, which
// must already be known to be valid JSON; nullopt when the member is absent.
// Echoing a client's value from its own text keeps it exact where a parsed
// and re-serialised one would not be (integers beyond 64 bits).
std::optional<std::string_view> raw_member(std::string_view object_text, std::string_view key);

}  // namespace chat::protocol
