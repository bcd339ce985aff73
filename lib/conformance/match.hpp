#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/transcript.hpp"

namespace chat::conformance {

// Values bound by "$name" in JSON patterns. One table per transcript run, so
// a value captured from alice's frame can be compared with one bob receives.
using capture_table = std::map<std::string, nlohmann::json, std::less<>>;

// Checks the special strings of a JSON pattern ("*", "$name", "$$…", "$*")
// and appends the capture names it uses to `names`. Returns what is wrong
// with it, or nothing when it is well formed.
std::optional<std::string> validate_pattern(const nlohmann::json& pattern,
                                            std::vector<std::string>& names);

// Whether `frame` (one received line, LF removed) meets `expected`. Returns
// nothing on a match, having bound any captures seen for the first time;
// otherwise says what differs and leaves `captures` untouched.
std::optional<std::string> match_frame(const frame_expectation& expected, std::string_view frame,
                                       capture_table& captures);

// The frame a `sends` step sends: each "$name" (quotes included) of a value
// captured so far is replaced by that value as JSON, so that a client can
// send back an id it was given. Other text is left as written.
std::string fill_captures(std::string_view frame, const capture_table& captures);

// Evaluates `a < b <= c …` over captured values and number literals. Returns
// nothing when every relation holds, else the first that does not.
std::optional<std::string> evaluate_check(const action::check& check,
                                          const capture_table& captures);

}  // namespace chat::conformance
