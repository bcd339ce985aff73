#include "protocol/error_code.hpp"

namespace chat::protocol {

std::string_view to_string(error_code code) noexcept {
  switch (code) {
    case error_code::line_too_long: return "line-too-long";
    case error_code::bad_utf8: return "bad-utf8";
    case error_code::bad_name: return "bad-name";
    case error_code::name_taken: return "name-taken";
    case error_code::bad_json: return "bad-json";
    case error_code::bad_request: return "bad-request";
    case error_code::unknown_command: return "unknown-command";
    case error_code::slow_consumer: return "slow-consumer";
    case error_code::timeout: return "timeout";
    case error_code::not_in_room: return "not-in-room";
    case error_code::no_such_user: return "no-such-user";
    case error_code::rate_limited: return "rate-limited";
    case error_code::server_full: return "server-full";
    case error_code::too_many_connections: return "too-many-connections";
    case error_code::storage_unavailable: return "storage-unavailable";
    case error_code::password_required: return "password-required";
    case error_code::auth_failed: return "auth-failed";
    case error_code::bad_password: return "bad-password";
    case error_code::account_required: return "account-required";
    case error_code::accounts_unavailable: return "accounts-unavailable";
    case error_code::insecure_transport: return "insecure-transport";
    case error_code::session_replaced: return "session-replaced";
    case error_code::not_operator: return "not-operator";
    case error_code::banned: return "banned";
    case error_code::muted: return "muted";
    case error_code::not_invited: return "not-invited";
  }
  return "internal";
}

}  // namespace chat::protocol
