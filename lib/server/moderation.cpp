#include "server/moderation.hpp"

#include <algorithm>

#include "protocol/names.hpp"

namespace chat::server {

using protocol::fold_name;
using kind = accounts::moderation_record::kind;

namespace {

bool expired(std::int64_t until_ms, std::int64_t now_ms) {
  return until_ms != 0 && until_ms <= now_ms;
}

}  // namespace

moderation::moderation(const std::vector<std::string>& server_operators, std::vector<record> stored,
                       persist_handler persist)
    : persist_(std::move(persist)) {
  for (const auto& name : server_operators) server_operators_.insert(fold_name(name));
  for (record& r : stored) {
    switch (r.what) {
      case kind::room_op: room_operators_[r.room].insert(r.target); break;
      case kind::ban: {
        auto range = protocol::address_range::parse(r.target);
        bans_.push_back({std::move(r.room), std::move(r.target), std::move(range), std::move(r.by),
                         std::move(r.reason), r.until_ms});
        break;
      }
      case kind::mute: mutes_[key(r.room, r.target)] = {r.until_ms}; break;
      case kind::private_room: private_rooms_.insert(r.room); break;
      case kind::invite: invitations_[r.room].insert(r.target); break;
    }
  }
}

std::string moderation::key(std::string_view room, std::string_view name) {
  std::string k(room);
  k.push_back('\0');
  k.append(fold_name(name));
  return k;
}

void moderation::save(record r, bool add) {
  if (persist_) persist_({std::move(r), add});
}

bool moderation::is_server_operator(std::string_view name, bool account) const {
  return account && server_operators_.contains(fold_name(name));
}

bool moderation::is_room_operator(std::string_view room, std::string_view name,
                                  bool account) const {
  if (!account) return false;
  if (is_server_operator(name, account)) return true;
  const auto it = room_operators_.find(std::string(room));
  return it != room_operators_.end() && it->second.contains(fold_name(name));
}

bool moderation::has_operators(std::string_view room) const {
  const auto it = room_operators_.find(std::string(room));
  return it != room_operators_.end() && !it->second.empty();
}

bool moderation::set_room_operator(std::string_view room, std::string_view name, bool grant) {
  const std::string folded = fold_name(name);
  auto& ops = room_operators_[std::string(room)];
  const bool changed = grant ? ops.insert(folded).second : ops.erase(folded) == 1;
  if (ops.empty()) room_operators_.erase(std::string(room));
  if (changed) save({kind::room_op, std::string(room), folded, {}, {}, 0}, grant);
  return changed;
}

bool moderation::covers(const ban& b, std::string_view name, std::string_view address) {
  return b.range ? b.range->contains(address) : b.target == fold_name(name);
}

const moderation::ban* moderation::ban_of(std::string_view room, std::string_view name,
                                          std::string_view address, std::int64_t now_ms) {
  if (bans_.empty()) return nullptr;
  std::erase_if(bans_, [&](const ban& b) { return expired(b.until_ms, now_ms); });
  for (const ban& b : bans_) {
    if (b.room == room && covers(b, name, address)) return &b;
  }
  return nullptr;
}

void moderation::add_ban(ban b) {
  std::erase_if(bans_,
                [&](const ban& old) { return old.room == b.room && old.target == b.target; });
  save({kind::ban, b.room, b.target, b.by, b.reason, b.until_ms}, true);
  bans_.push_back(std::move(b));
}

bool moderation::remove_ban(std::string_view room, std::string_view target) {
  const auto removed =
      std::erase_if(bans_, [&](const ban& b) { return b.room == room && b.target == target; });
  if (removed != 0) save({kind::ban, std::string(room), std::string(target), {}, {}, 0}, false);
  return removed != 0;
}

std::vector<moderation::ban> moderation::bans_of(std::string_view room, std::int64_t now_ms) {
  std::vector<ban> found;
  for (const ban& b : bans_) {
    if (b.room == room && !expired(b.until_ms, now_ms)) found.push_back(b);
  }
  return found;
}

std::optional<std::int64_t> moderation::muted_until(std::string_view room, std::string_view name,
                                                    std::int64_t now_ms) {
  if (mutes_.empty()) return std::nullopt;
  const auto it = mutes_.find(key(room, name));
  if (it == mutes_.end()) return std::nullopt;
  if (expired(it->second.until_ms, now_ms)) {
    mutes_.erase(it);
    return std::nullopt;
  }
  return it->second.until_ms;
}

void moderation::mute(std::string_view room, std::string_view name, std::int64_t until_ms,
                      std::string_view by, std::string_view reason) {
  mutes_[key(room, name)] = {until_ms};
  save({kind::mute, std::string(room), fold_name(name), std::string(by), std::string(reason),
        until_ms},
       true);
}

bool moderation::unmute(std::string_view room, std::string_view name) {
  if (mutes_.erase(key(room, name)) == 0) return false;
  save({kind::mute, std::string(room), fold_name(name), {}, {}, 0}, false);
  return true;
}

bool moderation::is_private(std::string_view room) const {
  return !private_rooms_.empty() && private_rooms_.contains(std::string(room));
}

void moderation::set_private(std::string_view room, bool private_room) {
  const std::string r(room);
  if (private_room) {
    if (private_rooms_.insert(r).second) save({kind::private_room, r, {}, {}, {}, 0}, true);
    return;
  }
  if (private_rooms_.erase(r) == 0) return;
  save({kind::private_room, r, {}, {}, {}, 0}, false);
  if (const auto it = invitations_.find(r); it != invitations_.end()) {
    for (const auto& name : it->second) save({kind::invite, r, name, {}, {}, 0}, false);
    invitations_.erase(it);
  }
}

bool moderation::is_invited(std::string_view room, std::string_view name) const {
  const auto it = invitations_.find(std::string(room));
  return it != invitations_.end() && it->second.contains(fold_name(name));
}

void moderation::invite(std::string_view room, std::string_view name) {
  const std::string folded = fold_name(name);
  if (invitations_[std::string(room)].insert(folded).second) {
    save({kind::invite, std::string(room), folded, {}, {}, 0}, true);
  }
}

void moderation::use_invitation(std::string_view room, std::string_view name) {
  const auto it = invitations_.find(std::string(room));
  if (it == invitations_.end() || it->second.erase(fold_name(name)) == 0) return;
  save({kind::invite, std::string(room), fold_name(name), {}, {}, 0}, false);
  if (it->second.empty()) invitations_.erase(it);
}

}  // namespace chat::server
