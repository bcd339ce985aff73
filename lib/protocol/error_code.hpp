#pragma once

#include <cstddef>
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
  // Accounts.
  password_required,     // the name is registered: log in with its password
  auth_failed,           // wrong password, or no account of that name
  bad_password,          // too short to set, or too long to take
  account_required,      // the server takes no guests (--require-account)
  accounts_unavailable,  // the server keeps no accounts (no --data-dir)
  insecure_transport,    // a password over plain TCP from another machine
  session_replaced,      // the same account logged in again elsewhere
  // Moderation.
  not_operator,  // the request needs an operator of the room or of the server
  banned,        // the name or the address is banned from the room or the server
  muted,         // the sender may not speak in the room for now
  not_invited,   // the room is private: joining it needs an invitation
};

// How many codes there are (counters per code are an array): a new code
// goes last in the enum and moves this to itself.
inline constexpr std::size_t error_code_count =
    static_cast<std::size_t>(error_code::not_invited) + 1;

std::string_view to_string(error_code code) noexcept;

}  // namespace chat::protocol
