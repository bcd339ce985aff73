#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/moderation_event.hpp"
#include "protocol/request.hpp"
#include "server/member.hpp"
#include "server/moderation.hpp"

namespace chat::store {
class history_database;
struct stored_message;
}  // namespace chat::store

namespace chat::server {

// Names, rooms and their recent history. Every change and every broadcast
// happens under one mutex, which is what makes the order of events the same
// for everyone: a member sees a join before that user's messages, history
// before live messages with no gap or repeat between them, and ids in
// increasing order. Sections are short: encode once per wire form, then push
// a pointer into each recipient's queue, which never blocks.
class hub {
public:
  struct options {
    std::string default_room = "lobby";
    // Messages each room keeps for those who join later.
    std::size_t history_limit = 100;
    // Rooms with more members than this are large: joins and leaves in them
    // are not announced, and a join reply counts the members instead of
    // naming them. Presence costs O(members) frames per arrival, so a login
    // storm into a big room would cost O(members^2). 0: no room is large.
    std::size_t presence_limit = 100;
    // Bytes one replay page may queue for its client: kept well under the
    // client's outbox bound, so that resuming never makes a slow consumer.
    std::size_t max_replay_bytes = 256 * 1024;
    // Where history outlives the process; null keeps it in memory only.
    store::history_database* database = nullptr;
    // Moderation: the server's operators (names of accounts), what was
    // decided before (read at start), and where changes go to be kept.
    std::vector<std::string> operators;
    std::vector<accounts::moderation_record> moderation;
    moderation::persist_handler persist;
  };

  enum class outcome { ok, not_in_room, no_such_user, name_taken };

  // Why a request was turned down, for its sender's error frame.
  struct refusal {
    protocol::error_code code;
    std::string message;
    // banned: seconds until the ban ends; absent: until lifted.
    std::optional<std::uint64_t> retry_after_s;
  };
  using verdict = std::optional<refusal>;

  explicit hub(options opts);

  const std::string& default_room() const noexcept { return options_.default_room; }

  // Claims the member's name and joins it to the default room. The member
  // gets its welcome and the room's history before any other frame, and the
  // others a join. Returns false, changing nothing, when the name is taken,
  // unless `take_over` (a login to the name's account): then the holder
  // leaves everywhere and is told, through member::displaced().
  // Each room in `resume` is joined too, and replays what was missed in it
  // (resume()) in place of its recent history.
  // `account`: the session is logged in to the account of its name (only
  // that gives operator power). A name or address banned from the server is
  // refused (false, with `refused` set when given).
  bool login(const std::shared_ptr<member>& who,
             std::span<const protocol::request::resume> resume = {}, bool take_over = false,
             bool account = false, verdict* refused = nullptr);

  // Leaves every room and frees the name. Safe for a member never logged in.
  void logout(const member& who);

  // Creates the room if missing and joins it: the member gets a `joined`
  // reply and the history, the others a join. Returns the room's name as
  // first spelled, which may differ in case from `room`.
  // A room that bans the member, or is private and did not invite it,
  // refuses: then the name is empty and `refused` set.
  std::string join(const std::shared_ptr<member>& who, std::string_view room, bool account = false,
                   verdict* refused = nullptr);

  // Replays the room's messages with ids above `after` that the member
  // missed: up to those accepted before it joined the room, joining it first
  // when it is not in it (then live messages follow with no gap or repeat).
  // A page holds at most protocol::max_history_page messages and ends with a
  // `more` marker when there are more; a `gap` comes first when history no
  // longer reaches back that far. Returns the room's name as join() does.
  // Refused as join() is.
  std::string resume(const std::shared_ptr<member>& who, std::string_view room, std::uint64_t after,
                     bool account = false, verdict* refused = nullptr);

  // With a database, acks wait for the history writer (group commit).
  bool persists() const noexcept { return options_.database != nullptr; }
  // The history writer is too far behind: senders should pause.
  bool store_backlogged() const noexcept;

  // Leaves the room; on success `current` becomes the room joined most
  // recently of those still joined, or empty.
  outcome leave(member& who, std::string_view room, std::string& current);

  // Stamps the message and delivers it to every other member of the room.
  // nullopt when the sender is not in the room, or (with `refused` set) muted there.
  std::optional<std::uint64_t> publish(const member& from, std::string_view room,
                                       std::string_view text, verdict* refused = nullptr);

  // Delivers a direct message; nullopt when no one has that name.
  std::optional<std::uint64_t> send_direct(const member& from, std::string_view to,
                                           std::string_view text);

  // Renames the member; everyone sharing a room with it, and itself, hear of it.
  outcome rename(member& who, const std::string& new_name);

  outcome send_users(member& who, std::string_view room);
  void send_rooms(member& who);
  // Sets the topic when `text` is given (the room hears of it), else sends it.
  outcome topic(member& who, std::string_view room, const std::optional<std::string>& text);
  // Sends up to `limit` messages of the room older than `before` (0: newest).
  outcome send_history(member& who, std::string_view room, std::uint64_t before, std::size_t limit);

  // Moderation (hub_moderation.cpp, PROTOCOL.md 3.9): `by` asks, `account`
  // says whether it is logged in to its account; `room` is resolved (the
  // current room filled in). Each answers the asker itself, or refuses.
  verdict kick(member& by, bool account, std::string_view room, std::string_view user,
               std::string_view reason);
  verdict ban(member& by, bool account, const protocol::request::ban& request);
  verdict unban(member& by, bool account, const protocol::request::unban& request);
  verdict mute(member& by, bool account, const protocol::request::mute& request);
  verdict unmute(member& by, bool account, const protocol::request::unmute& request);
  verdict send_bans(member& by, bool account, std::string_view room);
  verdict set_operator(member& by, bool account, const protocol::request::op& request);
  verdict invite(member& by, bool account, const protocol::request::invite& request);
  verdict set_mode(member& by, bool account, const protocol::request::mode& request);
  verdict kill(member& by, bool account, const protocol::request::kill& request);
  // The room `who` is to call current after being put out of one: still
  // `current` if it is in it (it may have come back), else the room it
  // joined last of those it is in, or empty.
  std::string current_room_of(const member& who, std::string_view current);

  // From now on departures are not announced: the server is going down and
  // every client is being told so.
  void close();

private:
  struct stored {
    std::uint64_t id;
    std::int64_t ts_ms;
    std::string from;
    std::string text;
    // The message as history, per wire form, encoded for the first joiner
    // that needs it and shared by every later one.
    frame as_history[2];
  };
  struct room {
    std::string key;   // the folded name: rooms_ and the database know it by this
    std::string name;  // as first spelled
    std::string topic;
    std::vector<std::shared_ptr<member>> members;
    std::deque<stored> history;  // oldest first, at most history_limit
    // Messages of the room with ids up to this one may be missing from
    // `history`: those from before the room was made in this process, and
    // those pushed out of the ring.
    std::uint64_t floor = 0;
  };
  struct joined_room {
    room* where;
    // The last id handed out when the member joined: it received every later
    // message of the room live.
    std::uint64_t live_from;
  };
  struct user {
    std::shared_ptr<member> who;
    std::vector<joined_room> rooms;  // in the order joined
  };
  // A replay left for the database, read once the lock is released.
  struct replay_request {
    std::string key;
    std::string name;
    std::uint64_t after;
    std::uint64_t through;
  };

  // Finds the room, creating it if missing. With a database the history of
  // a room coming back to life is read with the lock released, so that no
  // one waits on the disk for someone else's join: pointers into rooms_ and
  // users_ taken before may be stale afterwards.
  room& open_room(std::unique_lock<std::mutex>& lock, std::string_view name);
  room& create_room(std::string_view name, std::vector<store::stored_message> recent,
                    std::uint64_t floor);
  room* find_room(std::string_view name);
  user* find_user(const member& who);
  // Leaves every room and frees the name.
  void remove_user(std::unordered_map<std::string, user>::iterator it);
  static bool contains(const room& r, const member& who);
  std::vector<std::string> sorted_names(const room& r) const;
  bool is_large(const room& r) const;
  // The join reply: welcome at login, else joined.
  frame join_reply(const room& r, const member& who, bool at_login) const;
  static joined_room* find_joined(user& u, const room& r);
  // Joins `who` to `r`: reply and history to it, a join to the others. With
  // `resume_after`, a replay from there takes the place of the history; one
  // the ring cannot serve is returned, for replay_from_database().
  std::optional<replay_request> enter(room& r, user& u, bool at_login,
                                      std::optional<std::uint64_t> resume_after = std::nullopt);
  // The replay of (after, through] from the room's ring, or, when the ring
  // does not reach back that far and a database does, the request for it.
  std::optional<replay_request> replay(room& r, member& who, std::uint64_t after,
                                       std::uint64_t through);
  // Without the lock.
  void replay_from_database(member& who, const replay_request& request);
  frame history_frame(const room& r, stored& s, protocol::session_mode mode) const;
  // Removes `who` from `r`, announces it, drops the room if empty.
  void exit(room& r, const member& who);
  // Keeps the message in the room's ring and, with a database, on disk.
  void remember(room& r, std::uint64_t id, std::int64_t ts_ms, const member& from,
                std::string_view text);
  // Keeps only that `id` was handed out, so that ids never repeat after a restart.
  void remember_id(std::uint64_t id);
  // Moderation helpers (hub_moderation.cpp), under the lock.
  // Why `who` may not enter `r`, if it may not; uses up an invitation.
  verdict admit(room& r, const member& who, bool account);
  // A newcomer logged in to an account that makes a room with no operator
  // holds it.
  void claim_if_unheld(room& r, const member& who, bool account);
  bool may_moderate(std::string_view room_key, const member& who, bool account) const;
  // Puts `who` out of `r`: `left` to it, a leave to the others; the room
  // may go. Collected in `removed` to be told outside the lock.
  void put_out(room& r, user& u, std::vector<std::shared_ptr<member>>& removed);
  // The members to tell of a moderation event: the room's and the asker.
  void announce(room* r, member& by, const protocol::moderation_event& event);
  // Tells the members put out that their rooms changed, without the lock.
  static void tell_removed(const std::vector<std::shared_ptr<member>>& removed);
  static refusal banned_refusal(const moderation::ban& b, std::string_view where);
  static refusal muted_refusal(const room& r, std::int64_t until_ms);
  // A room opened for a join that was refused goes again if nobody is in it.
  void drop_if_empty(room& r);
  moderation moderation_;
  const options options_;
  std::mutex mutex_;
  // Folded names: names of users and of rooms are unique without regard to case.
  std::unordered_map<std::string, user> users_;
  std::unordered_map<std::string, std::unique_ptr<room>> rooms_;
  std::uint64_t last_id_ = 0;
  // Counts rooms removed: a history read without the lock is still good if
  // no room went away meanwhile.
  std::uint64_t rooms_removed_ = 0;
  bool closed_ = false;
};

}  // namespace chat::server
