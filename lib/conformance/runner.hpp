#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "conformance/transcript.hpp"

namespace chat::conformance {

struct run_options {
  // How long a step may wait: for its frame, for the close, for a connect.
  std::chrono::milliseconds timeout{3'000};
  // How long `receives nothing` listens before it is satisfied.
  std::chrono::milliseconds quiet{200};
  // When set, every connection event and frame is written here as it happens.
  std::ostream* trace = nullptr;
};

// The first step that did not go as the transcript says.
struct failure {
  std::size_t line = 0;
  std::string step;    // the step as written
  std::string detail;  // what happened instead; may span several lines
};

// "NAME:LINE: step" then the detail, indented: how a failure is reported.
std::string format_failure(const std::string& transcript_name, const failure& f);

// Runs the steps in order against a live server over TCP; returns the first
// failure, or nothing when every step passed. Connections still open at the
// end are closed in an orderly way and waited for, so a later transcript run
// against the same server finds their names free.
std::optional<failure> run_transcript(const transcript& script, const std::string& host,
                                      std::uint16_t port, const run_options& options = {});

}  // namespace chat::conformance
