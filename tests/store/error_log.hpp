#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/history_database.hpp"

namespace chat::store::test {

// Collects what a store reports, so that a test can check each line and
// fail on any it did not expect.
class error_log {
public:
  history_database::error_handler handler() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }

  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace chat::store::test
