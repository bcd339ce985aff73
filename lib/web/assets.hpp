#pragma once

#include <string_view>

namespace chat::web {

// A file of the browser client, compiled into the binary.
struct asset {
  std::string_view path;  // as requested, "/app.js"
  std::string_view content_type;
  std::string_view body;
};

// The file served at `path` ("/" is the page itself); null when there is none.
const asset* find(std::string_view path) noexcept;

}  // namespace chat::web
