// Moderation in a conversation: the requests of operators, handed to the
// hub with whether the session is logged in to its account (only that gives
// operator power), and what a session does when an operator acts on it.
#include "protocol/event.hpp"
#include "protocol/names.hpp"
#include "server/metrics.hpp"
#include "server/conversation.hpp"
#include "server/hub.hpp"
#include "server/log.hpp"

namespace chat::server {

namespace request = protocol::request;

void conversation::send_refusal(protocol::error_code code, const std::string& message,
                                const std::optional<std::uint64_t>& retry_after_s) {
  if (retry_after_s) {
    send(metrics::error_text(mode_, code, message, *retry_after_s));
  } else {
    send_error(code, message);
  }
}

const std::string* conversation::moderated_room(const std::string& named) {
  const std::string& room = room_of(named);
  if (room.empty()) {
    send_not_in_room(room);
    return nullptr;
  }
  return &room;
}

bool conversation::handle(request::kick& kick) {
  const std::string* room = moderated_room(kick.room);
  if (room == nullptr) return true;
  return answer(hub_.kick(*this, account_, *room, kick.user, kick.reason));
}

bool conversation::handle(request::ban& ban) {
  if (!ban.global) {
    const std::string* room = moderated_room(ban.room);
    if (room == nullptr) return true;
    ban.room = *room;
  }
  return answer(hub_.ban(*this, account_, ban));
}

bool conversation::handle(request::unban& unban) {
  if (!unban.global) {
    const std::string* room = moderated_room(unban.room);
    if (room == nullptr) return true;
    unban.room = *room;
  }
  return answer(hub_.unban(*this, account_, unban));
}

bool conversation::handle(request::mute& mute) {
  const std::string* room = moderated_room(mute.room);
  if (room == nullptr) return true;
  mute.room = *room;
  return answer(hub_.mute(*this, account_, mute));
}

bool conversation::handle(request::unmute& unmute) {
  const std::string* room = moderated_room(unmute.room);
  if (room == nullptr) return true;
  unmute.room = *room;
  return answer(hub_.unmute(*this, account_, unmute));
}

bool conversation::handle(request::bans& bans) {
  const std::string* room = moderated_room(bans.room);
  if (room == nullptr) return true;
  return answer(hub_.send_bans(*this, account_, *room));
}

bool conversation::handle(request::op& op) {
  const std::string* room = moderated_room(op.room);
  if (room == nullptr) return true;
  op.room = *room;
  return answer(hub_.set_operator(*this, account_, op));
}

bool conversation::handle(request::invite& invite) {
  const std::string* room = moderated_room(invite.room);
  if (room == nullptr) return true;
  invite.room = *room;
  return answer(hub_.invite(*this, account_, invite));
}

bool conversation::handle(request::mode& mode) {
  const std::string* room = moderated_room(mode.room);
  if (room == nullptr) return true;
  mode.room = *room;
  return answer(hub_.set_mode(*this, account_, mode));
}

bool conversation::handle(request::kill& kill) {
  return answer(hub_.kill(*this, account_, kill)) && !closing_;
}

void conversation::removed_from_room() {
  run_in_session([self = shared_from_this()] {
    conversation& c = *self;
    if (c.closing_ || !c.logged_in_) return;
    c.current_room_ = c.hub_.current_room_of(c, c.current_room_);
  });
}

void conversation::dismissed(frame last) {
  run_in_session([self = shared_from_this(), last = std::move(last)]() mutable {
    conversation& c = *self;
    if (c.closing_) return;
    // The hub has let go of the name already: nothing to leave.
    c.end_login();
    c.deliver(std::move(last));
    c.close_after_flush();
  });
}

}  // namespace chat::server
