// The hub's side of moderation (PROTOCOL.md 3.9): who may act, what each
// request does to rooms and members, and whom it is told to. The decisions
// themselves are kept by moderation.{hpp,cpp}; the rest of the hub is in
// hub.cpp.
#include <algorithm>
#include <chrono>

#include "protocol/names.hpp"
#include "server/metrics.hpp"
#include "server/hub.hpp"

namespace chat::server {

using protocol::error_code;
using protocol::fold_name;
using protocol::session_mode;

namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<std::uint64_t> seconds_left(std::int64_t until_ms) {
  if (until_ms == 0) return std::nullopt;
  return static_cast<std::uint64_t>(std::max<std::int64_t>(1, (until_ms - now_ms() + 999) / 1000));
}

hub::refusal not_operator(std::string_view what) {
  return {error_code::not_operator, "only an operator may " + std::string(what), std::nullopt};
}

hub::refusal bad_request(std::string message) {
  return {error_code::bad_request, std::move(message), std::nullopt};
}

std::int64_t until_of(const std::optional<std::uint64_t>& duration_s) {
  return duration_s ? now_ms() + static_cast<std::int64_t>(*duration_s) * 1000 : 0;
}

protocol::moderation_event event_of(std::string_view type, std::string_view room,
                                    std::string_view target, const member& by,
                                    std::string_view reason = {}, std::int64_t until_ms = 0,
                                    std::uint64_t duration_s = 0) {
  protocol::moderation_event e;
  e.type = type;
  e.room = room;
  e.target = target;
  e.by = by.name();
  e.reason = reason;
  if (until_ms != 0) e.until_ms = until_ms;
  e.duration_s = duration_s;
  return e;
}

}  // namespace

hub::refusal hub::banned_refusal(const moderation::ban& b, std::string_view where) {
  std::string message = "you are banned from " + std::string(where);
  if (!b.reason.empty()) message += " (" + b.reason + ")";
  return {error_code::banned, std::move(message), seconds_left(b.until_ms)};
}

hub::refusal hub::muted_refusal(const room& r, std::int64_t until_ms) {
  return {error_code::muted, "you are muted in " + r.name + "; your message was not delivered",
          seconds_left(until_ms)};
}

void hub::drop_if_empty(room& r) {
  if (r.members.empty() && r.name != options_.default_room) {
    rooms_.erase(r.key);
    ++rooms_removed_;
  }
}

bool hub::may_moderate(std::string_view room_key, const member& who, bool account) const {
  return moderation_.is_room_operator(room_key, who.name(), account);
}

hub::verdict hub::admit(room& r, const member& who, bool account) {
  // An operator is never kept out: no ban locks out those who can lift it.
  if (may_moderate(r.key, who, account)) return std::nullopt;
  if (const auto* b = moderation_.ban_of(r.key, who.name(), who.address(), now_ms())) {
    return banned_refusal(*b, r.name);
  }
  if (!moderation_.is_private(r.key)) return std::nullopt;
  if (!moderation_.is_invited(r.key, who.name())) {
    return refusal{error_code::not_invited,
                   r.name + " is private: ask an operator for an invitation", std::nullopt};
  }
  moderation_.use_invitation(r.key, who.name());
  return std::nullopt;
}

void hub::claim_if_unheld(room& r, const member& who, bool account) {
  if (account && r.members.empty() && r.name != options_.default_room &&
      !moderation_.has_operators(r.key)) {
    moderation_.set_room_operator(r.key, who.name(), true);
  }
}

void hub::put_out(room& r, user& u, std::vector<std::shared_ptr<member>>& removed) {
  const std::shared_ptr<member> who = u.who;
  std::erase_if(u.rooms, [&](const joined_room& j) { return j.where == &r; });
  const std::string room_name = r.name;
  exit(r, *who);  // may remove the room
  who->deliver(make_frame(protocol::encode_left(who->mode(), room_name)));
  removed.push_back(who);
}

void hub::announce(room* r, member& by, const protocol::moderation_event& event) {
  std::optional<frame_copies> plain, json;
  const auto tell = [&](member& m) {
    auto& copies = m.mode() == session_mode::json ? json : plain;
    if (!copies) {
      const std::size_t count = (r != nullptr ? r->members.size() : 0) + 1;
      copies.emplace(make_frame(protocol::encode_moderation(m.mode(), event)), count);
    }
    m.deliver(copies->next());
  };
  bool told_asker = false;
  if (r != nullptr) {
    for (const auto& m : r->members) {
      told_asker = told_asker || m.get() == &by;
      tell(*m);
    }
  }
  if (!told_asker) tell(by);
}

void hub::tell_removed(const std::vector<std::shared_ptr<member>>& removed) {
  for (const auto& m : removed) m->removed_from_room();
}

std::string hub::current_room_of(const member& who, std::string_view current) {
  std::lock_guard lock(mutex_);
  user* u = find_user(who);
  if (u == nullptr || u->rooms.empty()) return {};
  if (room* r = find_room(current); r != nullptr && find_joined(*u, *r) != nullptr) return r->name;
  return u->rooms.back().where->name;
}

hub::verdict hub::kick(member& by, bool account, std::string_view name, std::string_view target,
                       std::string_view reason) {
  std::vector<std::shared_ptr<member>> removed;
  {
    std::lock_guard lock(mutex_);
    room* r = find_room(name);
    const std::string key = fold_name(name);
    if (!may_moderate(key, by, account)) return not_operator("kick from " + std::string(name));
    const auto it = users_.find(fold_name(target));
    if (r == nullptr || it == users_.end() || !contains(*r, *it->second.who)) {
      return refusal{error_code::no_such_user,
                     std::string(target) + " is not in " + std::string(name), std::nullopt};
    }
    user& u = it->second;
    announce(r, by, event_of("kicked", r->name, u.who->name(), by, reason));
    put_out(*r, u, removed);
  }
  tell_removed(removed);
  return std::nullopt;
}

hub::verdict hub::ban(member& by, bool account, const protocol::request::ban& request) {
  std::vector<std::shared_ptr<member>> removed;
  std::vector<std::pair<std::shared_ptr<member>, frame>> dismissed;
  {
    std::lock_guard lock(mutex_);
    const std::string key = request.global ? std::string() : fold_name(request.room);
    if (request.global ? !moderation_.is_server_operator(by.name(), account)
                       : !may_moderate(key, by, account)) {
      return not_operator(request.global ? std::string("ban from the server")
                                         : "ban from " + request.room);
    }
    if (!request.global && key == fold_name(options_.default_room)) {
      return bad_request("nobody is banned from " + options_.default_room +
                         ", the room everyone starts in: a server operator can /gban");
    }
    moderation::ban b;
    b.room = key;
    b.range = protocol::address_range::parse(request.target);
    b.target = b.range ? b.range->text() : fold_name(request.target);
    b.by = by.name();
    b.reason = request.reason;
    b.until_ms = until_of(request.duration_s);
    room* r = request.global ? nullptr : find_room(request.room);
    const std::string room_name = r != nullptr ? r->name : request.room;
    announce(r, by,
             event_of("banned", room_name, request.target, by, request.reason, b.until_ms,
                      request.duration_s.value_or(0)));
    // Who is there now and matches goes: from the room, or from the server;
    // not the operators it covers, whom it does not keep out either.
    std::vector<std::string> matching;
    for (auto& [user_key, u] : users_) {
      const member& m = *u.who;
      if (&m == &by || !moderation::covers(b, m.name(), m.address())) continue;
      if (request.global ? moderation_.is_server_operator(m.name(), m.holds_account())
                         : may_moderate(key, m, m.holds_account())) {
        continue;
      }
      if (request.global || (r != nullptr && contains(*r, *u.who))) matching.push_back(user_key);
    }
    if (request.global) {
      for (const auto& user_key : matching) {
        const auto it = users_.find(user_key);
        auto who = it->second.who;
        const refusal why = banned_refusal(b, "the server");
        frame last = make_frame(metrics::error_text(who->mode(), why.code, why.message));
        remove_user(it);
        dismissed.emplace_back(std::move(who), std::move(last));
      }
    } else {
      for (const auto& user_key : matching) {
        room* still = find_room(room_name);
        if (still == nullptr) break;
        put_out(*still, users_.find(user_key)->second, removed);
      }
    }
    moderation_.add_ban(std::move(b));
  }
  tell_removed(removed);
  for (auto& [who, last] : dismissed) who->dismissed(std::move(last));
  return std::nullopt;
}

hub::verdict hub::unban(member& by, bool account, const protocol::request::unban& request) {
  std::lock_guard lock(mutex_);
  const std::string key = request.global ? std::string() : fold_name(request.room);
  if (request.global ? !moderation_.is_server_operator(by.name(), account)
                     : !may_moderate(key, by, account)) {
    return not_operator("lift a ban");
  }
  const auto range = protocol::address_range::parse(request.target);
  const std::string target = range ? range->text() : fold_name(request.target);
  room* r = request.global ? nullptr : find_room(request.room);
  const std::string room_name = r != nullptr ? r->name : request.room;
  if (!moderation_.remove_ban(key, target)) {
    return bad_request(request.target + " is not banned from " +
                       (request.global ? std::string("the server") : room_name));
  }
  announce(r, by, event_of("unbanned", request.global ? "" : room_name, request.target, by));
  return std::nullopt;
}

hub::verdict hub::mute(member& by, bool account, const protocol::request::mute& request) {
  std::lock_guard lock(mutex_);
  const std::string key = fold_name(request.room);
  if (!may_moderate(key, by, account)) return not_operator("mute in " + request.room);
  room* r = find_room(request.room);
  const std::string room_name = r != nullptr ? r->name : request.room;
  const std::int64_t until = until_of(request.duration_s);
  moderation_.mute(key, request.user, until, by.name(), request.reason);
  announce(r, by,
           event_of("muted", room_name, request.user, by, request.reason, until,
                    request.duration_s.value_or(0)));
  return std::nullopt;
}

hub::verdict hub::unmute(member& by, bool account, const protocol::request::unmute& request) {
  std::lock_guard lock(mutex_);
  const std::string key = fold_name(request.room);
  if (!may_moderate(key, by, account)) return not_operator("unmute in " + request.room);
  room* r = find_room(request.room);
  const std::string room_name = r != nullptr ? r->name : request.room;
  if (!moderation_.unmute(key, request.user)) {
    return bad_request(request.user + " is not muted in " + room_name);
  }
  announce(r, by, event_of("unmuted", room_name, request.user, by));
  return std::nullopt;
}

hub::verdict hub::send_bans(member& by, bool account, std::string_view name) {
  std::lock_guard lock(mutex_);
  const std::string key = fold_name(name);
  if (!may_moderate(key, by, account)) return not_operator("list the bans of " + std::string(name));
  room* r = find_room(name);
  std::vector<protocol::ban_entry> entries;
  const auto add = [&](const std::vector<moderation::ban>& bans, bool global) {
    for (const auto& b : bans) {
      entries.push_back({b.target, b.by, b.reason,
                         b.until_ms == 0 ? std::nullopt : std::optional(b.until_ms), global});
    }
  };
  const std::int64_t now = now_ms();
  add(moderation_.bans_of(key, now), false);
  if (moderation_.is_server_operator(by.name(), account)) add(moderation_.bans_of({}, now), true);
  by.deliver(make_frame(
      protocol::encode_bans(by.mode(), r != nullptr ? r->name : std::string(name), entries, now)));
  return std::nullopt;
}

hub::verdict hub::set_operator(member& by, bool account, const protocol::request::op& request) {
  std::lock_guard lock(mutex_);
  const std::string key = fold_name(request.room);
  if (!may_moderate(key, by, account)) return not_operator("grant or take operator");
  room* r = find_room(request.room);
  const std::string room_name = r != nullptr ? r->name : request.room;
  if (!moderation_.set_room_operator(key, request.user, request.grant)) {
    return bad_request(request.user + (request.grant ? " is already" : " is not") +
                       " an operator of " + room_name);
  }
  announce(r, by, event_of(request.grant ? "op" : "deop", room_name, request.user, by));
  return std::nullopt;
}

hub::verdict hub::invite(member& by, bool account, const protocol::request::invite& request) {
  std::lock_guard lock(mutex_);
  const std::string key = fold_name(request.room);
  if (!may_moderate(key, by, account)) return not_operator("invite to " + request.room);
  room* r = find_room(request.room);
  const std::string room_name = r != nullptr ? r->name : request.room;
  if (!moderation_.is_private(key)) {
    return bad_request(room_name + " is public: anyone may join it");
  }
  moderation_.invite(key, request.user);
  const auto event = event_of("invited", room_name, request.user, by);
  by.deliver(make_frame(protocol::encode_moderation(by.mode(), event)));
  if (const auto it = users_.find(fold_name(request.user));
      it != users_.end() && it->second.who.get() != &by) {
    member& guest = *it->second.who;
    guest.deliver(make_frame(protocol::encode_moderation(guest.mode(), event)));
  }
  return std::nullopt;
}

hub::verdict hub::set_mode(member& by, bool account, const protocol::request::mode& request) {
  std::lock_guard lock(mutex_);
  const std::string key = fold_name(request.room);
  if (!may_moderate(key, by, account)) return not_operator("change the mode of " + request.room);
  if (key == fold_name(options_.default_room) && request.private_room) {
    return bad_request(options_.default_room + " is everyone's: it cannot be private");
  }
  room* r = find_room(request.room);
  const std::string room_name = r != nullptr ? r->name : request.room;
  moderation_.set_private(key, request.private_room);
  auto event = event_of("mode", room_name, {}, by);
  event.private_room = request.private_room;
  announce(r, by, event);
  return std::nullopt;
}

hub::verdict hub::kill(member& by, bool account, const protocol::request::kill& request) {
  std::shared_ptr<member> target;
  frame last;
  {
    std::lock_guard lock(mutex_);
    if (!moderation_.is_server_operator(by.name(), account)) {
      return not_operator("disconnect a user");
    }
    const auto it = users_.find(fold_name(request.user));
    if (it == users_.end()) {
      return refusal{error_code::no_such_user, "no one is called " + request.user, std::nullopt};
    }
    target = it->second.who;
    const auto event = event_of("kicked", {}, target->name(), by, request.reason);
    if (target.get() != &by) by.deliver(make_frame(protocol::encode_moderation(by.mode(), event)));
    last = make_frame(protocol::encode_moderation(target->mode(), event));
    remove_user(it);
  }
  target->dismissed(std::move(last));
  return std::nullopt;
}

}  // namespace chat::server
