#pragma once

#include <string>
#include <string_view>

#include "client/server_event.hpp"
#include "client/session_state.hpp"

namespace chat::client {

// What a person at a terminal sees for `event`, without a final LF, in the
// style of the server's plain sessions: `[12:03] alice: hi`, `* bob joined
// lobby`, `! error name-taken: ...`. `where` is the session as it stands once
// the event has been applied to it: messages of the current room go
// unmarked, those of any other room say which (`[12:03] [#dev] bob: hi`).
// A history page is a header line and one line per message, joined by LF;
// every other event is one line. `frame` is what arrived; kinds this client
// does not know are shown as that.
std::string render_event(const server_event& event, std::string_view frame,
                         const session_state& where);

// An error the server sent about one of our messages (its `ref`), shown as
// render_event shows errors, followed by which message: the room it went to
// and the start of its text.
std::string render_error_about(const server_event& event, std::string_view room,
                               std::string_view text);

}  // namespace chat::client
