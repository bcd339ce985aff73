#include "protocol/names.hpp"

#include <algorithm>

namespace chat::protocol {

namespace {
bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}
}  // namespace

bool is_valid_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= max_name_length &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

std::string fold_name(std::string_view name) {
  std::string folded(name);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return folded;
}

}  // namespace chat::protocol
