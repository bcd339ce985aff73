#pragma once

#include <string>

namespace chat::conformance::test {

// What a transcript needs of its server besides being fresh.
enum class server_setup {
  // protocol/conformance/*.chat: the usual settings, history in memory.
  in_memory,
  // protocol/conformance/accounts/*.chat: a fresh --data-dir, so accounts
  // exist, at the cheapest password cost.
  accounts,
};

// Runs the transcript at `path` against a fresh in-process server on an
// ephemeral port and fails the current test case with the runner's report.
void check_transcript(const std::string& path, server_setup setup = server_setup::in_memory);

}  // namespace chat::conformance::test
