#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/server_event.hpp"

namespace chat::client {

// Where chat-client stands in each room it is in, so that after a lost
// connection it can ask the server for exactly what it missed (a hello with
// "resume", or a resume request per room) and show each missed message once.
//
// A room's `through` is the id up to which every message of the room has been
// shown (or came before we joined it): the `after` to resume from. Outside a
// replay it is simply the highest id seen in the room: live messages, history
// and the acks of our own messages, which the server never echoes. During a
// replay it is how far the replay got: live messages flow meanwhile with
// higher ids, and resuming after one of them would skip the rest of the
// replay. Those are remembered instead, so that a later replay does not show
// them again, and folded into `through` once the replay is over.
//
// A replay is over when the server has answered every request for it: the
// session pings after each one (hello, resume, or the resume that follows a
// `more`) and reports the pong with replay_answered().
class resume_state {
public:
  struct cursor {
    std::string room;  // spelt as the server does
    std::uint64_t through = 0;
    // Ids above `through` already shown: live messages during a replay.
    std::set<std::uint64_t> seen_above;
    // Requests whose replay is not known to be over.
    int replays = 0;
  };

  // A message of ours not yet acknowledged, by its ref.
  struct sent_message {
    std::string room;
    std::string text;
  };

  // What the session is to do about an event.
  struct outcome {
    // False for a replayed message already shown, and for the ack of one of
    // our own messages (the client adds the ref; nobody typed it).
    bool show = true;
    // For an error about one of our messages (its ref): which one.
    std::optional<sent_message> about;
    // For a `more` marker: the request for the next page, sent by the
    // session (followed by a ping, and replay_requested()).
    std::optional<std::string> follow;
  };

  outcome apply(const server_event& event);

  // A ref for the next message, recorded with its room and text; the ack
  // (or error) that echoes it says which message it was about.
  std::uint64_t sent(std::string_view room, std::string_view text);
  // The ref sent() will give next.
  std::uint64_t next_ref() const noexcept { return next_ref_; }
  std::size_t unconfirmed() const noexcept { return unconfirmed_.size(); }

  // Tracks `room` from `through` unless it is tracked already: a room to
  // resume at the first login (--resume).
  void expect(std::string_view room, std::uint64_t through);

  // A resume for `room` went out (in a hello or alone); tracks the room if
  // it is not yet, starting from `after`.
  void replay_requested(std::string_view room, std::uint64_t after);
  // The pong after that request is in: every page it asked for has come.
  void replay_answered(std::string_view room);

  // The connection is gone: replays in progress will not finish, and our
  // unacknowledged messages will not be acknowledged (their fate is unknown:
  // a replay shows those the server kept). Cursors stay, for the resume.
  void connection_lost();

  // Stops tracking a room we are no longer in (the server refused to resume
  // it, or we left it).
  void forget(std::string_view room);

  // In the order joined, as the server's answers told it.
  const std::vector<cursor>& rooms() const noexcept { return rooms_; }
  const cursor* find(std::string_view room) const;
  // The highest id of a live message or ack seen: a room joined now misses
  // nothing at or below it.
  std::uint64_t live_mark() const noexcept { return live_mark_; }

private:
  cursor* find_mutable(std::string_view room);
  cursor& track(std::string_view room, std::uint64_t through);
  // A message (or our own, acknowledged) seen in `room`; false when a replay
  // brings it again.
  bool saw(std::string_view room, std::uint64_t id, bool replayed);
  static void settle(cursor& c);

  std::vector<cursor> rooms_;
  std::uint64_t live_mark_ = 0;
  // Ordered by ref: a ref is never reused, so the map stays small.
  std::map<std::uint64_t, sent_message> unconfirmed_;
  std::uint64_t next_ref_ = 1;
};

// {"type":"resume","room":ROOM,"after":AFTER}, LF-ended.
std::string encode_resume_request(std::string_view room, std::uint64_t after);

// The JSON hello that logs in as `user` and resumes each room after its
// cursor, `most` rooms at most (the server's cap; the rest are resumed with
// resume requests once logged in). LF-ended.
std::string encode_resume_hello(std::string_view user,
                                const std::vector<resume_state::cursor>& rooms, std::size_t most);

}  // namespace chat::client
