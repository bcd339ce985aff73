#pragma once

#include <string>

namespace chat::conformance::test {

// Runs the transcript at `path` against a fresh in-process server on an
// ephemeral port and fails the current test case with the runner's report.
void check_transcript(const std::string& path);

}  // namespace chat::conformance::test
