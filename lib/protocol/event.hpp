#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/error_code.hpp"

namespace chat::protocol {

// How a session talks, fixed by its first frame.
enum class session_mode { plain, json };

// Server-to-client frames, each ended by LF. Plain forms are for people at a
// terminal; JSON forms are the envelopes of protocol/PROTOCOL.md.
std::string encode_prompt();
std::string encode_welcome(session_mode mode, std::string_view user, std::string_view room,
                           std::span<const std::string> users);
std::string encode_join(session_mode mode, std::string_view room, std::string_view user);
std::string encode_leave(session_mode mode, std::string_view room, std::string_view user);
std::string encode_message(session_mode mode, std::uint64_t id, std::int64_t ts_ms,
                           std::string_view room, std::string_view from, std::string_view text);
std::string encode_users(session_mode mode, std::string_view room,
                         std::span<const std::string> users);
std::string encode_error(session_mode mode, error_code code, std::string_view message);
std::string encode_shutdown(session_mode mode);
std::string encode_help();
// JSON sessions only.
std::string encode_ack(std::string_view ref_json, std::uint64_t id);
std::string encode_pong();

// Client-to-server frames, for the bundled client and the tests.
std::string encode_hello_request(std::string_view user);
std::string encode_message_request(std::string_view text, std::string_view ref_json = {});
// {"type":"<type>"} for the requests without fields: ping, who, quit.
std::string encode_bare_request(std::string_view type);

}  // namespace chat::protocol
