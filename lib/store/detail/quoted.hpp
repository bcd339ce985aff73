#pragma once

#include <filesystem>
#include <string>

namespace chat::store::detail {

// A path as error messages show it: in quotes, so that spaces and an empty
// path stay visible.
inline std::string quoted(const std::filesystem::path& path) {
  // Appended piece by piece: `"'" + string` trips a false -Wrestrict in g++ 12.
  std::string text;
  text += '\'';
  text += path.string();
  text += '\'';
  return text;
}

}  // namespace chat::store::detail
