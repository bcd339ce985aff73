#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "accounts/moderation_record.hpp"
#include "protocol/address_range.hpp"

namespace chat::server {

// Who may moderate and what they decided: server and room operators, bans
// (of a room or of the whole server, by name or by address range), mutes,
// and private rooms with their invitations. Rooms are known by their folded
// name whether or not they exist at the moment, names folded too.
//
// Not thread-safe: the hub consults and changes it under its lock. Every
// change is also handed to `persist` (there, with --data-dir, the account
// service queues it for its own threads): nothing here touches a disk.
class moderation {
public:
  using record = accounts::moderation_record;
  using persist_handler = std::function<void(accounts::moderation_change)>;

  struct ban {
    std::string room;    // folded; empty: the whole server
    std::string target;  // a folded name, or an address range's text
    std::optional<protocol::address_range> range;
    std::string by;
    std::string reason;
    std::int64_t until_ms = 0;  // 0: until lifted
  };

  // `server_operators` as configured (any case); `stored` as loaded at start
  // (expired bans and mutes are dropped); `persist` may be empty.
  moderation(const std::vector<std::string>& server_operators, std::vector<record> stored,
             persist_handler persist);

  // Operator power needs a session logged in to the account (`account`).
  bool is_server_operator(std::string_view name, bool account) const;
  bool is_room_operator(std::string_view room, std::string_view name, bool account) const;
  bool has_operators(std::string_view room) const;
  // False when it changed nothing.
  bool set_room_operator(std::string_view room, std::string_view name, bool grant);

  // The ban keeping `name` from `address` out of `room` (empty: the server)
  // at `now_ms`, if any; expired bans are forgotten on the way.
  const ban* ban_of(std::string_view room, std::string_view name, std::string_view address,
                    std::int64_t now_ms);
  // Whether `b` (in force) covers `name` at `address`.
  static bool covers(const ban& b, std::string_view name, std::string_view address);
  void add_ban(ban b);
  bool remove_ban(std::string_view room, std::string_view target);
  // The bans of `room` in force (empty: the server's), oldest first.
  std::vector<ban> bans_of(std::string_view room, std::int64_t now_ms);

  // When the mute of `name` in `room` ends (0: never), if muted.
  std::optional<std::int64_t> muted_until(std::string_view room, std::string_view name,
                                          std::int64_t now_ms);
  void mute(std::string_view room, std::string_view name, std::int64_t until_ms,
            std::string_view by, std::string_view reason);
  bool unmute(std::string_view room, std::string_view name);

  bool is_private(std::string_view room) const;
  // Making a room public forgets its invitations.
  void set_private(std::string_view room, bool private_room);
  bool is_invited(std::string_view room, std::string_view name) const;
  void invite(std::string_view room, std::string_view name);
  // An invitation is used up by the join it allowed.
  void use_invitation(std::string_view room, std::string_view name);

private:
  void save(record r, bool add);
  static std::string key(std::string_view room, std::string_view name);

  persist_handler persist_;
  std::unordered_set<std::string> server_operators_;
  std::unordered_map<std::string, std::unordered_set<std::string>> room_operators_;
  std::vector<ban> bans_;  // few: scanned
  struct muting {
    std::int64_t until_ms;
  };
  std::unordered_map<std::string, muting> mutes_;  // by key(room, name)
  std::unordered_set<std::string> private_rooms_;
  std::unordered_map<std::string, std::unordered_set<std::string>> invitations_;
};

}  // namespace chat::server
