#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "error_log.hpp"
#include "outcome_log.hpp"
#include "store/history_database.hpp"
#include "temp_dir.hpp"

namespace chat::store::test {

// Options under which the writer never commits on its own during a test:
// only flush(), a full batch or the destructor make it write.
inline history_options holding_writer() {
  history_options options;
  options.batch_interval = std::chrono::seconds(60);
  return options;
}

// The directory of one test's store, and what the stores opened there
// report: each open() is a server starting on the same files, and their
// error lines (with open_reporting(), their batches' outcomes too) go to one
// log across restarts, for the test to check.
class test_store {
public:
  history_database open(const history_options& options = {}) {
    return history_database(dir_.path(), errors_.handler(), options);
  }

  history_database open_reporting(const history_options& options = {}) {
    return history_database(dir_.path(), errors_.handler(), options, outcomes_.handler());
  }

  const std::filesystem::path& path() const noexcept { return dir_.path(); }
  std::filesystem::path chunks_file() const { return path() / history_database::chunks_file_name; }

  std::vector<std::string> errors() const { return errors_.lines(); }
  std::vector<commit_outcome> outcomes() const { return outcomes_.outcomes(); }

private:
  temp_dir dir_;
  error_log errors_;
  outcome_log outcomes_;
};

}  // namespace chat::store::test
