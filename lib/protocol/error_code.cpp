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
  }
  return "internal";
}

}  // namespace chat::protocol
