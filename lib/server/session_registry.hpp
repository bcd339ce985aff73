#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

namespace chat::server {

class session;

// Every open connection, logged in or not, so shutdown can reach them all.
class session_registry {
public:
  void add(const std::shared_ptr<session>& s);
  void remove(const session* s);
  void shutdown_all();
  std::size_t size();

private:
  std::mutex mutex_;
  // Weak: the coroutines own a session; the registry only finds it.
  std::unordered_map<const session*, std::weak_ptr<session>> sessions_;
};

}  // namespace chat::server
