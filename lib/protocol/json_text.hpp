#pragma once

#include <string>
#include <string_view>

namespace chat::protocol {

// Appends `text` (valid UTF-8) as a JSON string literal, quotes included.
// Hand-written because building an nlohmann::json per outgoing frame would
// cost an allocation per field on the hottest path of the server.
void append_json_string(std::string& out, std::string_view text);

}  // namespace chat::protocol
