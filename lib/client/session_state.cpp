#include "client/session_state.hpp"

#include "protocol/names.hpp"

namespace chat::client {

void session_state::apply(const server_event& event) {
  using kind = server_event::kind;
  switch (event.type) {
    case kind::welcome: rooms_.assign(1, event.room); break;
    case kind::joined:
      remove(event.room);
      rooms_.push_back(event.room);
      break;
    case kind::left: remove(event.room); break;
    default: break;
  }
}

std::string_view session_state::current_room() const noexcept {
  return rooms_.empty() ? std::string_view() : std::string_view(rooms_.back());
}

bool session_state::is_current(std::string_view room) const {
  return !rooms_.empty() && protocol::fold_name(room) == protocol::fold_name(rooms_.back());
}

void session_state::remove(std::string_view room) {
  const std::string key = protocol::fold_name(room);
  std::erase_if(rooms_, [&](const std::string& r) { return protocol::fold_name(r) == key; });
}

}  // namespace chat::client
