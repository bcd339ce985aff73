#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "line_client.hpp"

namespace chat::test {

// If the stalled client has not been dropped once this much has been sent
// its way, the server is buffering for it without bound: the kernel takes at
// most a few MiB (the server's autotuned send buffer) before pushing back.
constexpr std::size_t stalled_give_up_after = 16 << 20;

// chatter0, chatter1, ...
std::string chatter_name(int index);

// A lobby where one client stops reading: JSON sessions chatter0 to
// chatter<count - 1>, then "stalled", whose small receive buffer makes the
// kernel soon stop taking bytes for it; every chatter has read the
// announcements of those who came after it, so none has anything unread.
struct stalled_room {
  std::vector<line_client> chatters;
  line_client stalled;
};
stalled_room join_stalled_room(std::uint16_t port, int chatter_count);

// What the stalled client reads at last, until EOF, once it has been dropped:
// what fitted in the socket buffers, then the error frame that says why.
struct slow_consumer_drop {
  std::vector<std::string> before;
  json error;
};
// Throws unless the last line is a slow-consumer error frame.
slow_consumer_drop read_slow_consumer_drop(line_client& stalled);

}  // namespace chat::test
