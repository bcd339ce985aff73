#pragma once

#include <string>
#include <string_view>

#include "client/server_event.hpp"

namespace chat::client {

// The line a person at a terminal sees for `event`, without LF, in the style
// of the server's plain sessions: `[12:03] alice: hi`, `* bob joined lobby`,
// `! error name-taken: ...`. `frame` is what arrived; kinds this client does
// not know are shown as that.
std::string render_event(const server_event& event, std::string_view frame);

}  // namespace chat::client
