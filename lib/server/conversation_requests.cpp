// What a logged-in client's requests do. The rest of the conversation
// (handshake, deadlines) is in conversation.cpp.
#include <algorithm>
#include <chrono>

#include "accounts/account_service.hpp"
#include "protocol/event.hpp"
#include "protocol/names.hpp"
#include "server/hub.hpp"
#include "server/conversation.hpp"
#include "server/metrics.hpp"

namespace chat::server {

using protocol::error_code;
namespace request = protocol::request;

const std::string& conversation::room_of(const std::string& named) const {
  return named.empty() ? current_room_ : named;
}

void conversation::send_not_in_room(std::string_view room) {
  if (room.empty()) {
    send_error(error_code::not_in_room, "you are in no room: /join one first");
  } else {
    send_error(error_code::not_in_room, "you are not in " + std::string(room));
  }
}

bool conversation::within_rate_limit() {
  if (config_.rate_limit <= 0) return true;
  const time_point now = turn_started_;
  const std::chrono::duration<double> elapsed = now - tokens_at_;
  tokens_ = std::min(config_.rate_burst, tokens_ + elapsed.count() * config_.rate_limit);
  tokens_at_ = now;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return true;
  }
  send_error(error_code::rate_limited, "too many messages: this one was dropped");
  return false;
}

bool conversation::handle(request::message& message) {
  const std::string& room = room_of(message.room);
  if (!within_rate_limit()) return true;
  hub::verdict refused;
  const auto id = hub_.publish(*this, room, message.text, &refused);
  if (refused) {
    send_refusal(refused->code, refused->message, refused->retry_after_s);
  } else if (!id) {
    send_not_in_room(room);
  } else {
    acknowledge(*id, std::move(message.ref_json), /*kept=*/true);
  }
  return true;
}

bool conversation::handle(request::direct& message) {
  if (!within_rate_limit()) return true;
  const auto id = hub_.send_direct(*this, message.to, message.text);
  if (!id) {
    send_error(error_code::no_such_user, "no one is called " + message.to);
  } else {
    acknowledge(*id, std::move(message.ref_json), /*kept=*/false);
  }
  return true;
}

void conversation::acknowledge(std::uint64_t id, std::string ref_json, bool kept) {
  metrics::add(metrics::counter::messages_in);
  if (!hub_.persists()) {
    if (!ref_json.empty()) send(protocol::encode_ack(ref_json, id));
    return;
  }
  // An ack is a promise that the message outlives a crash: it waits for the
  // writer's commit. Without a ref only a failure is told.
  unsettled_.push_back({id, std::move(ref_json), kept});
  if (unsettled_.size() == 1) watch_commits();
  // Checked after each message, so a pause comes within one message of the
  // writer falling behind; the rest of the turn waits in the backlog.
  if (hub_.store_backlogged()) input_paused_ = true;
}

bool conversation::on_commit(std::uint64_t through, bool stored, bool backlogged) {
  const auto settled = std::find_if(unsettled_.begin(), unsettled_.end(),
                                    [&](const unsettled& u) { return u.id > through; });
  for (auto it = unsettled_.begin(); it != settled; ++it) {
    if (stored || !it->kept) {
      if (!it->ref_json.empty()) send(protocol::encode_ack(it->ref_json, it->id));
    } else {
      metrics::error_sent(error_code::storage_unavailable);
      send(protocol::encode_not_stored(mode_, it->ref_json));
    }
  }
  unsettled_.erase(unsettled_.begin(), settled);
  if (unsettled_.empty() && unsettled_.capacity() > 64) unsettled_.shrink_to_fit();
  if (input_paused_ && !backlogged) {
    input_paused_ = false;
    resume_input();
  }
  return !unsettled_.empty() || input_paused_;
}

bool conversation::handle(request::join& join) {
  hub::verdict refused;
  std::string joined = hub_.join(shared_from_this(), join.room, account_, &refused);
  if (refused) {
    send_refusal(refused->code, refused->message, refused->retry_after_s);
  } else {
    current_room_ = std::move(joined);
  }
  return true;
}

bool conversation::handle(request::leave& leave) {
  const std::string room = room_of(leave.room);
  std::string current;
  if (hub_.leave(*this, room, current) != hub::outcome::ok) {
    send_not_in_room(room);
  } else if (leave.room.empty() ||
             protocol::fold_name(room) == protocol::fold_name(current_room_)) {
    current_room_ = std::move(current);
  }
  return true;
}

bool conversation::handle(request::who& who) {
  const std::string& room = room_of(who.room);
  if (hub_.send_users(*this, room) != hub::outcome::ok) send_not_in_room(room);
  return true;
}

bool conversation::handle(request::topic& topic) {
  const std::string& room = room_of(topic.room);
  if (hub_.topic(*this, room, topic.text) != hub::outcome::ok) send_not_in_room(room);
  return true;
}

bool conversation::handle(request::nick& nick) {
  if (account_ && protocol::fold_name(nick.user) != protocol::fold_name(name_)) {
    send_error(error_code::bad_request,
               "you are logged in to the account " + name_ + ": its name is yours to keep");
    return true;
  }
  if (!account_ && accounts_ != nullptr && accounts_->is_registered(nick.user)) {
    send_error(error_code::name_taken, "the name " + nick.user + " is registered");
    return true;
  }
  if (hub_.rename(*this, nick.user) == hub::outcome::name_taken) {
    send_error(error_code::name_taken, "the name " + nick.user + " is taken");
  }
  return true;
}

bool conversation::handle(request::history& history) {
  const std::string& room = room_of(history.room);
  if (hub_.send_history(*this, room, history.before, history.limit) != hub::outcome::ok) {
    send_not_in_room(room);
  }
  return true;
}

bool conversation::handle(request::resume& resume) {
  // Resuming a room joins it, so it becomes the current room as a join does.
  const std::string& room = room_of(resume.room);
  if (room.empty()) {
    send_not_in_room(room);
    return true;
  }
  hub::verdict refused;
  std::string resumed = hub_.resume(shared_from_this(), room, resume.after, account_, &refused);
  if (refused) {
    send_refusal(refused->code, refused->message, refused->retry_after_s);
  } else {
    current_room_ = std::move(resumed);
  }
  return true;
}

bool conversation::handle(request::rooms&) {
  hub_.send_rooms(*this);
  return true;
}

bool conversation::handle(request::ping&) {
  send(protocol::encode_pong());
  return true;
}

bool conversation::handle(request::pong&) {
  // Hearing from the client already reset the keepalive.
  return true;
}

bool conversation::handle(request::help&) {
  send(protocol::encode_help());
  return true;
}

bool conversation::handle(request::quit&) {
  close_after_flush();
  return false;
}

}  // namespace chat::server
