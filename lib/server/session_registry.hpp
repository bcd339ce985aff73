#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace chat::server {

class conversation;

// Every open connection, logged in or not: shutdown reaches them all through
// it, and it enforces the connection caps.
class session_registry {
public:
  enum class admission { admitted, server_full, too_many_from_address };

  session_registry(std::size_t max_clients, std::size_t max_per_address);

  // Counts a new connection from `address` if the caps allow it; an admitted
  // one must then be add()ed.
  // Addresses are kept as they are, never formatted: this runs per connection.
  admission admit(const boost::asio::ip::address& address);
  void add(const std::shared_ptr<conversation>& s, const boost::asio::ip::address& address);
  // An admitted connection that gets no session after all frees its place.
  void abandon(const boost::asio::ip::address& address);
  // Forgets the session and frees its place under the caps.
  void remove(const conversation* s);
  void shutdown_all();

  // Draining: warn_of_shutdown() to every session, then shutdown() to a few
  // at a time, picking sessions not yet shut down.
  void warn_all();
  void shutdown_some(std::size_t count);
  // Sessions not yet shut down.
  std::size_t still_open();

private:
  struct entry {
    std::weak_ptr<conversation> connection;  // weak: its coroutines own a session
    boost::asio::ip::address address;
    bool shut_down = false;  // by shutdown_some(), which skips it after
  };

  // The live sessions that `pick` chooses, taken under the lock and
  // called outside it.
  template <class Pick>
  std::vector<std::shared_ptr<conversation>> live(Pick&& pick);

  // Under mutex_: frees one place of `address`.
  void release(const boost::asio::ip::address& address);

  const std::size_t max_clients_;
  const std::size_t max_per_address_;  // 0: no limit
  std::mutex mutex_;
  std::unordered_map<const conversation*, entry> sessions_;
  std::unordered_map<boost::asio::ip::address, std::size_t> per_address_;
  std::size_t admitted_ = 0;
};

}  // namespace chat::server
