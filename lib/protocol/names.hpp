#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chat::protocol {

inline constexpr std::size_t max_name_length = 32;

// 1 to 32 of A-Z a-z 0-9 _ . -
bool is_valid_name(std::string_view name) noexcept;

inline constexpr std::size_t max_room_length = 64;

// A room name as the client wrote it, with an optional leading '#' dropped;
// nullopt unless the rest is 1 to 64 of A-Z a-z 0-9 _ . -
std::optional<std::string> normalize_room_name(std::string_view text);

// The key under which names (of users and of rooms) are unique: "Alice" and "alice" are one name.
std::string fold_name(std::string_view name);

}  // namespace chat::protocol
