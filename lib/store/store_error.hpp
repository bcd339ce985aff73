#pragma once

#include <stdexcept>

namespace chat::store {

// Thrown only while a history database is opened: later failures are
// reported through the error callback, so a bad disk never takes the server down.
class store_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

}  // namespace chat::store
