#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/member.hpp"

namespace chat::server {

// Names and room membership. Every change and every broadcast happens under
// one mutex, which is what makes the order of events the same for everyone:
// a member sees a join before that user's messages, and ids increase in the
// order each recipient receives them. Sections are short: encode once, then
// push a pointer into each recipient's queue, which never blocks.
class hub {
public:
  explicit hub(std::string default_room);

  // Claims the member's name and joins it to the default room. The member
  // gets its welcome before any other frame, and the others a join.
  // Returns false, changing nothing, when the name is taken.
  bool login(const std::shared_ptr<member>& who);

  // Frees the name and tells the room. Safe to call for a member that never
  // logged in.
  void logout(const member& who);

  // Stamps the message and delivers it to every other member of the room.
  // Returns its id.
  std::uint64_t publish(const member& from, std::string_view text);

  // Sends `who` the list of users in its room.
  void send_users(member& who);

  // From now on departures are not announced: the server is going down and
  // every client is being told so.
  void close();

private:
  struct room {
    std::string name;
    std::vector<std::shared_ptr<member>> members;
  };

  std::vector<std::string> sorted_names(const room& r) const;
  // Delivers one event to every member of `r` but `except`, encoding each
  // wire form at most once.
  template <class Encode>
  void broadcast(const room& r, const member* except, Encode&& encode);

  std::mutex mutex_;
  // Folded name -> member: names are unique without regard to case.
  std::unordered_map<std::string, std::shared_ptr<member>> names_;
  room lobby_;
  std::uint64_t last_id_ = 0;
  bool closed_ = false;
};

}  // namespace chat::server
