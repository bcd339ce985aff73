#pragma once

#include <string_view>

namespace chat::protocol {

// The `code` of an error frame. Clients match on these strings, so they are
// part of the wire protocol: add, never rename.
enum class error_code {
  line_too_long,
  bad_utf8,
  bad_name,
  name_taken,
  bad_json,
  bad_request,
  unknown_command,
  slow_consumer,
  timeout,
  not_in_room,
  no_such_user,
  rate_limited,
  server_full,
  too_many_connections,
  storage_unavailable,
};

std::string_view to_string(error_code code) noexcept;

}  // namespace chat::protocol
