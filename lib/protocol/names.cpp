#include "protocol/names.hpp"

#include <algorithm>

namespace chat::protocol {

namespace {
bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}
}  // namespace

bool is_valid_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= max_name_length &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

std::optional<std::string> normalize_room_name(std::string_view text) {
  if (text.starts_with('#')) text.remove_prefix(1);
  if (text.empty() || text.size() > max_room_length ||
      !std::all_of(text.begin(), text.end(), is_name_char)) {
    return std::nullopt;
  }
  return std::string(text);
}

std::string fold_name(std::string_view name) {
  std::string folded(name);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return folded;
}

}  // namespace chat::protocol
