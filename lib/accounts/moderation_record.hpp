#pragma once

#include <cstdint>
#include <string>

namespace chat::accounts {

// One fact of moderation as accounts.sqlite3 keeps it (schema version 2),
// so that operators, bans, mutes and private rooms outlive a restart. Rooms
// and names are folded (protocol::fold_name); the server decides what they
// mean, this library only keeps them.
struct moderation_record {
  enum class kind { room_op, ban, mute, private_room, invite };
  kind what = kind::ban;
  std::string room;    // empty: a server-wide ban
  std::string target;  // a name, or for a ban an address range; empty for private_room
  std::string by;
  std::string reason;
  std::int64_t until_ms = 0;  // bans and mutes: 0 until lifted
};

// A record to keep (`add`) or to forget (matched by what, room and target).
struct moderation_change {
  moderation_record record;
  bool add = true;
};

}  // namespace chat::accounts
