#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "client/server_event.hpp"

namespace chat::client {

// The rooms this client is in and which one is current, followed from the
// server's own answers (welcome, joined, left) by the rules the server
// applies to the session: the room joined last is the current one (joining a
// room again makes it the last), and leaving it falls back to the one joined
// most recently of those left. Messages typed go to the current room.
class session_state {
public:
  // Events other than welcome, joined and left change nothing.
  void apply(const server_event& event);

  // Empty when the client is in no room.
  std::string_view current_room() const noexcept;
  // Whether `room` is the current room; room names ignore case, as the
  // server's do.
  bool is_current(std::string_view room) const;
  // In the order joined, the current room last; spelt as the server does.
  const std::vector<std::string>& rooms() const noexcept { return rooms_; }

private:
  void remove(std::string_view room);

  std::vector<std::string> rooms_;
};

}  // namespace chat::client
