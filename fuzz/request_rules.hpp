#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "fuzz_input.hpp"
#include "protocol/names.hpp"
#include "protocol/request.hpp"
#include "protocol/utf8.hpp"

// What every decoded request must be, whichever decoder made it: the server
// puts its strings into frames and its names into the hub without checking
// them again.
namespace chat::fuzz {

// Message text as the decoders promise it: valid UTF-8, no control
// character but tab, so that it cannot split or drive a plain frame.
inline bool is_chat_text(std::string_view text) {
  if (!protocol::is_valid_utf8(text)) return false;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7F) return false;
  }
  return true;
}

// Empty (the current room) or a name as normalize_room_name leaves it.
inline bool is_room_or_current(const std::string& room) {
  return room.empty() || protocol::normalize_room_name(room) == room;
}

inline void check_request(const protocol::decoded<protocol::any_request>& decoded) {
  namespace request = protocol::request;
  if (const auto* error = std::get_if<protocol::decode_error>(&decoded)) {
    require(protocol::is_valid_utf8(error->message), "an error's message is UTF-8", error->message);
    return;
  }
  std::visit(
      [](const auto& r) {
        using type = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<type, request::message>) {
          require(!r.text.empty() && is_chat_text(r.text), "message text is chat text", r.text);
          require(is_room_or_current(r.room), "a message's room is normalised", r.room);
          require(r.ref_json.find_first_of("\r\n") == std::string::npos, "a ref spans no lines",
                  r.ref_json);
        } else if constexpr (std::is_same_v<type, request::direct>) {
          require(protocol::is_valid_name(r.to), "a dm goes to a valid name", r.to);
          require(!r.text.empty() && is_chat_text(r.text), "dm text is chat text", r.text);
          require(r.ref_json.find_first_of("\r\n") == std::string::npos, "a ref spans no lines",
                  r.ref_json);
        } else if constexpr (std::is_same_v<type, request::join>) {
          require(!r.room.empty() && is_room_or_current(r.room), "join names a room", r.room);
        } else if constexpr (std::is_same_v<type, request::topic>) {
          require(is_room_or_current(r.room), "a topic's room is normalised", r.room);
          require(!r.text || is_chat_text(*r.text), "a topic is chat text", r.text.value_or(""));
        } else if constexpr (std::is_same_v<type, request::nick>) {
          require(protocol::is_valid_name(r.user), "nick gives a valid name", r.user);
        } else if constexpr (std::is_same_v<type, request::history>) {
          require(is_room_or_current(r.room), "a history room is normalised", r.room);
          require(r.limit >= 1 && r.limit <= protocol::max_history_page, "a page has a limit");
        } else if constexpr (std::is_same_v<type, request::leave> ||
                             std::is_same_v<type, request::who> ||
                             std::is_same_v<type, request::resume>) {
          require(is_room_or_current(r.room), "a request's room is normalised", r.room);
        }
      },
      std::get<protocol::any_request>(decoded));
}

}  // namespace chat::fuzz
