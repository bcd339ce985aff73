#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chat::protocol {

inline constexpr std::size_t max_name_length = 32;

// 1 to 32 of A-Z a-z 0-9 _ . -
bool is_valid_name(std::string_view name) noexcept;

// The key under which names are unique: "Alice" and "alice" are one name.
std::string fold_name(std::string_view name);

}  // namespace chat::protocol
