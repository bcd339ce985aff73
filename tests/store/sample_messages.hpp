#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/stored_message.hpp"

namespace chat::store::test {

// A message whose every field can be told from its id, so a comparison
// shows which message went missing or came back wrong.
inline stored_message sample_message(std::uint64_t id, const std::string& room = "lobby") {
  return stored_message{
      .id = id,
      .ts_ms = 1'700'000'000'000 + static_cast<std::int64_t>(id),
      .room = room,
      .from = "user" + std::to_string(id % 7),
      .text = "message " + std::to_string(id) + " in " + room,
  };
}

// Messages first..last (inclusive) of one room.
inline std::vector<stored_message> sample_messages(std::uint64_t first, std::uint64_t last,
                                                   const std::string& room = "lobby") {
  std::vector<stored_message> out;
  for (std::uint64_t id = first; id <= last; ++id) out.push_back(sample_message(id, room));
  return out;
}

using id_list = std::vector<std::uint64_t>;

inline id_list ids_of(const std::vector<stored_message>& messages) {
  id_list ids;
  for (const stored_message& m : messages) ids.push_back(m.id);
  return ids;
}

}  // namespace chat::store::test
