#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "line_client.hpp"

namespace chat::test {

using nlohmann::json;

// The next frame of a JSON session, parsed. Throws if it is not a JSON object.
json read_json(line_client& client, std::chrono::milliseconds timeout = default_timeout);

// Reads the USER prompt; throws if anything else comes.
void expect_prompt(line_client& client);

// Connects, answers the prompt and reads the welcome: a session ready to
// chat. Throws if the server says anything else.
line_client join_plain(std::uint16_t port, std::string_view name, line_client_options options = {});
line_client join_json(std::uint16_t port, std::string_view name, line_client_options options = {});

// Four sessions in the lobby, past the announcements of one another's
// arrival: alice and carol in JSON, bob and dave plain, so that a test sees
// every event in both forms and from both to both.
struct mixed_cast {
  line_client alice;
  line_client bob;
  line_client carol;
  line_client dave;
};
mixed_cast join_mixed_cast(std::uint16_t port);

// Reads the announcement that `name` joined the lobby, in either form; throws
// if the next line is anything else.
void expect_join(line_client& member, std::string_view name);

// Several frames in one string, each ended by LF, to send in one write.
std::string frames(std::initializer_list<std::string_view> lines);

// Everything the server sent `client` before answering a probe that every
// logged-in session may send at any time (a JSON ping, a plain /help), the
// answer itself excluded. Frames are handled in order, so these are all the
// frames the server had queued for the client when the probe was read: a
// test that expects nothing gets an empty list, not a wait for silence.
std::vector<std::string> lines_before_pong(line_client& json_client);
std::vector<std::string> lines_before_help(line_client& plain_client);
// lines_before_pong, each line parsed: JSON compares by value, not by the
// order of an object's members.
std::vector<json> frames_before_pong(line_client& json_client);

// Checks that a JSON frame carries an unsigned id and a ts stamped within
// the last minute (milliseconds since the epoch); returns the id.
std::uint64_t expect_stamped(const json& frame);

// Sends `count` JSON messages to the sender's current room, texts `prefix`
// followed by 0, 1, ...; returns their ids from the acks.
std::vector<std::uint64_t> say_numbered(line_client& json_sender, int count,
                                        const std::string& prefix = "m");

// The code of an error frame in either form (`! error <code>: ...` or
// {"type":"error","code":...}), or an empty string for any other line.
std::string error_code_of(std::string_view line);

}  // namespace chat::test
