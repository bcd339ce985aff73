#pragma once

#include <mutex>
#include <vector>

#include "store/history_database.hpp"

namespace chat::store::test {

// Collects the outcomes a store reports, from its writer thread.
class outcome_log {
public:
  history_database::commit_handler handler() {
    return [this](const commit_outcome& outcome) {
      std::lock_guard lock(mutex_);
      outcomes_.push_back(outcome);
    };
  }

  std::vector<commit_outcome> outcomes() const {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<commit_outcome> outcomes_;
};

}  // namespace chat::store::test
