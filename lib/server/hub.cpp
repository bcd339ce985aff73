#include "server/hub.hpp"

#include <algorithm>
#include <chrono>

#include "protocol/names.hpp"

namespace chat::server {

using protocol::session_mode;

namespace {
std::int64_t unix_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
}  // namespace

hub::hub(std::string default_room) { lobby_.name = std::move(default_room); }

std::vector<std::string> hub::sorted_names(const room& r) const {
  std::vector<std::string> names;
  names.reserve(r.members.size());
  for (const auto& m : r.members) names.push_back(m->name());
  std::sort(names.begin(), names.end());
  return names;
}

template <class Encode>
void hub::broadcast(const room& r, const member* except, Encode&& encode) {
  frame plain, json;
  for (const auto& m : r.members) {
    if (m.get() == except) continue;
    frame& f = m->mode() == session_mode::json ? json : plain;
    if (!f) f = make_frame(encode(m->mode()));
    m->deliver(f);
  }
}

bool hub::login(const std::shared_ptr<member>& who) {
  std::lock_guard lock(mutex_);
  if (!names_.try_emplace(protocol::fold_name(who->name()), who).second) return false;
  lobby_.members.push_back(who);
  who->deliver(make_frame(
      protocol::encode_welcome(who->mode(), who->name(), lobby_.name, sorted_names(lobby_))));
  broadcast(lobby_, who.get(), [&](session_mode mode) {
    return protocol::encode_join(mode, lobby_.name, who->name());
  });
  return true;
}

void hub::logout(const member& who) {
  std::lock_guard lock(mutex_);
  const auto named = names_.find(protocol::fold_name(who.name()));
  if (named == names_.end() || named->second.get() != &who) return;
  names_.erase(named);
  std::erase_if(lobby_.members, [&](const auto& m) { return m.get() == &who; });
  if (closed_) return;
  broadcast(lobby_, nullptr, [&](session_mode mode) {
    return protocol::encode_leave(mode, lobby_.name, who.name());
  });
}

std::uint64_t hub::publish(const member& from, std::string_view text) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = ++last_id_;
  const std::int64_t ts = unix_millis();
  broadcast(lobby_, &from, [&](session_mode mode) {
    return protocol::encode_message(mode, id, ts, lobby_.name, from.name(), text);
  });
  return id;
}

void hub::send_users(member& who) {
  std::lock_guard lock(mutex_);
  who.deliver(make_frame(protocol::encode_users(who.mode(), lobby_.name, sorted_names(lobby_))));
}

void hub::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

}  // namespace chat::server
