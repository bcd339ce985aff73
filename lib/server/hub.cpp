#include "server/metrics.hpp"
#include "server/hub.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "protocol/names.hpp"
#include "store/history_database.hpp"

namespace chat::server {

using protocol::session_mode;

namespace {

// One message in this many is timed from receipt to its last recipient's
// write, for /metrics: enough for a histogram, and no cost to the others.
constexpr std::uint64_t delivery_sample_every = 64;

std::int64_t unix_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Delivers one event to each of `members` (pointers of any kind) but
// `except`, encoding each wire form when its first recipient comes up, with
// a handle counted for every member.
template <class Members, class Encode>
void broadcast(const Members& members, const member* except, Encode&& encode,
               std::uint64_t message_id = 0, bool timed = false) {
  std::optional<frame_copies> plain, json;
  std::uint64_t delivered = 0;
  for (const auto& m : members) {
    if (&*m == except) continue;
    auto& copies = m->mode() == session_mode::json ? json : plain;
    if (!copies) {
      frame f = make_frame(encode(m->mode()), message_id);
      if (timed) f.time_delivery();
      copies.emplace(std::move(f), members.size());
    }
    m->deliver(copies->next());
    ++delivered;
  }
  metrics::add(metrics::counter::deliveries, delivered);
}

}  // namespace

hub::hub(options opts)
    : moderation_(opts.operators, std::move(opts.moderation), opts.persist),
      options_(std::move(opts)) {
  if (options_.database != nullptr) last_id_ = options_.database->last_id();
  std::unique_lock lock(mutex_);
  open_room(lock, options_.default_room);
}

bool hub::store_backlogged() const noexcept {
  return options_.database != nullptr && options_.database->backlogged();
}

hub::room& hub::open_room(std::unique_lock<std::mutex>& lock, std::string_view name) {
  const bool reads_disk = options_.database != nullptr && options_.history_limit > 0;
  // Retried when a room went away during the read, since it may have been
  // this one with messages the read did not see; given up on (read under
  // the lock) only under churn that never lets a read finish.
  constexpr int unlocked_attempts = 3;
  for (int attempt = 0;; ++attempt) {
    if (room* r = find_room(name)) return *r;
    if (!reads_disk) return create_room(name, {}, last_id_);
    const std::uint64_t through = last_id_;
    const std::string key = protocol::fold_name(name);
    if (attempt == unlocked_attempts) {
      return create_room(name, options_.database->load(key, 0, options_.history_limit), through);
    }
    const std::uint64_t removed = rooms_removed_;
    // No room of that name exists, so nothing is said in it until someone
    // creates it: the read misses nothing unless a room came and went.
    lock.unlock();
    auto recent = options_.database->load(key, through + 1, options_.history_limit);
    lock.lock();
    if (room* r = find_room(name)) return *r;
    if (rooms_removed_ == removed) return create_room(name, std::move(recent), through);
  }
}

hub::room& hub::create_room(std::string_view name, std::vector<store::stored_message> recent,
                            std::uint64_t floor) {
  auto [it, created] = rooms_.try_emplace(protocol::fold_name(name));
  it->second = std::make_unique<room>();
  room& r = *it->second;
  r.key = it->first;
  r.name = name;
  r.floor = floor;
  for (auto& m : recent) {
    r.history.push_back({m.id, m.ts_ms, std::move(m.from), std::move(m.text), {}});
  }
  return r;
}

hub::room* hub::find_room(std::string_view name) {
  const auto it = rooms_.find(protocol::fold_name(name));
  return it == rooms_.end() ? nullptr : it->second.get();
}

hub::user* hub::find_user(const member& who) {
  const auto it = users_.find(protocol::fold_name(who.name()));
  return it == users_.end() || it->second.who.get() != &who ? nullptr : &it->second;
}

bool hub::contains(const room& r, const member& who) {
  return std::any_of(r.members.begin(), r.members.end(),
                     [&](const auto& m) { return m.get() == &who; });
}

std::vector<std::string> hub::sorted_names(const room& r) const {
  std::vector<std::string> names;
  names.reserve(r.members.size());
  for (const auto& m : r.members) names.push_back(m->name());
  std::sort(names.begin(), names.end());
  return names;
}

bool hub::is_large(const room& r) const {
  return options_.presence_limit != 0 && r.members.size() > options_.presence_limit;
}

frame hub::join_reply(const room& r, const member& who, bool at_login) const {
  if (is_large(r)) {
    const protocol::member_count count{r.members.size()};
    return make_frame(at_login
                          ? protocol::encode_welcome(who.mode(), who.name(), r.name, count, r.topic)
                          : protocol::encode_joined(who.mode(), r.name, count, r.topic));
  }
  const auto names = sorted_names(r);
  return make_frame(at_login
                        ? protocol::encode_welcome(who.mode(), who.name(), r.name, names, r.topic)
                        : protocol::encode_joined(who.mode(), r.name, names, r.topic));
}

hub::joined_room* hub::find_joined(user& u, const room& r) {
  const auto it = std::find_if(u.rooms.begin(), u.rooms.end(),
                               [&](const joined_room& j) { return j.where == &r; });
  return it == u.rooms.end() ? nullptr : &*it;
}

frame hub::history_frame(const room& r, stored& s, session_mode mode) const {
  frame& cached = s.as_history[mode == session_mode::json ? 1 : 0];
  if (!cached) {
    const bool names_room = r.name != options_.default_room;
    cached = make_frame(protocol::encode_message(mode, {s.id, s.ts_ms, r.name, s.from, s.text,
                                                        names_room, /*history=*/true}),
                        s.id);
  }
  return cached;
}

std::optional<hub::replay_request> hub::enter(room& r, user& u, bool at_login,
                                              std::optional<std::uint64_t> resume_after) {
  member& who = *u.who;
  r.members.push_back(u.who);
  u.rooms.push_back({&r, last_id_});
  who.deliver(join_reply(r, who, at_login));
  std::optional<replay_request> later;
  if (resume_after) {
    later = replay(r, who, *resume_after, last_id_);
  } else {
    for (stored& s : r.history) who.deliver(history_frame(r, s, who.mode()));
  }
  if (!is_large(r)) {
    broadcast(r.members, &who,
              [&](session_mode mode) { return protocol::encode_join(mode, r.name, who.name()); });
  }
  return later;
}

std::optional<hub::replay_request> hub::replay(room& r, member& who, std::uint64_t after,
                                               std::uint64_t through) {
  if (after >= through) return std::nullopt;
  if (options_.history_limit == 0) {
    // Nothing is kept, so everything since is missing.
    who.deliver(make_frame(protocol::encode_gap(who.mode(), r.name, after, through)));
    return std::nullopt;
  }
  if (r.floor > after) {
    if (options_.database != nullptr) return replay_request{r.key, r.name, after, through};
    who.deliver(
        make_frame(protocol::encode_gap(who.mode(), r.name, after, std::min(r.floor, through))));
    after = std::max(after, r.floor);
  }
  auto first = std::upper_bound(r.history.begin(), r.history.end(), after,
                                [](std::uint64_t id, const stored& s) { return id < s.id; });
  std::size_t sent = 0;
  std::size_t bytes = 0;
  std::uint64_t last_sent = after;
  for (; first != r.history.end() && first->id <= through; ++first) {
    if (sent == protocol::max_history_page || bytes >= options_.max_replay_bytes) {
      who.deliver(make_frame(protocol::encode_more(who.mode(), r.name, last_sent)));
      break;
    }
    frame f = history_frame(r, *first, who.mode());
    bytes += f->size();
    who.deliver(std::move(f));
    last_sent = first->id;
    ++sent;
  }
  return std::nullopt;
}

void hub::replay_from_database(member& who, const replay_request& request) {
  const auto page = options_.database->load_after(request.key, request.after, request.through,
                                                  protocol::max_history_page);
  const session_mode mode = who.mode();
  if (page.lost_through > request.after) {
    who.deliver(make_frame(protocol::encode_gap(mode, request.name, request.after,
                                                std::min(page.lost_through, request.through))));
  }
  const bool names_room = request.name != options_.default_room;
  std::size_t bytes = 0;
  std::uint64_t last_sent = request.after;
  bool more = page.more;
  for (const auto& m : page.messages) {
    if (bytes >= options_.max_replay_bytes) {
      more = true;
      break;
    }
    frame f = make_frame(protocol::encode_message(mode, {m.id, m.ts_ms, request.name, m.from,
                                                         m.text, names_room, /*history=*/true}),
                         m.id);
    bytes += f->size();
    who.deliver(std::move(f));
    last_sent = m.id;
  }
  if (more && last_sent != request.after) {
    who.deliver(make_frame(protocol::encode_more(mode, request.name, last_sent)));
  }
}

void hub::exit(room& r, const member& who) {
  // Judged with the leaver still counted, as its arrival was.
  const bool announce = !closed_ && !is_large(r);
  // Members have no order (names are sorted when listed): the last one takes
  // the leaver's place, so a room does not shift every pointer after it.
  const auto it = std::find_if(r.members.begin(), r.members.end(),
                               [&](const auto& m) { return m.get() == &who; });
  if (it != r.members.end()) {
    *it = std::move(r.members.back());
    r.members.pop_back();
  }
  if (announce) {
    broadcast(r.members, nullptr,
              [&](session_mode mode) { return protocol::encode_leave(mode, r.name, who.name()); });
  }
  if (r.members.empty() && r.name != options_.default_room) {
    rooms_.erase(r.key);
    ++rooms_removed_;
  }
}

bool hub::login(const std::shared_ptr<member>& who,
                std::span<const protocol::request::resume> resume, bool take_over, bool account,
                verdict* refused) {
  std::optional<std::uint64_t> default_after;
  for (const auto& r : resume) {
    if (protocol::fold_name(r.room) == protocol::fold_name(options_.default_room)) {
      default_after = r.after;
    }
  }
  std::optional<replay_request> later;
  std::shared_ptr<member> displaced;
  {
    std::lock_guard lock(mutex_);
    const auto* b = moderation_.is_server_operator(who->name(), account)
                        ? nullptr
                        : moderation_.ban_of({}, who->name(), who->address(), unix_millis());
    if (b != nullptr) {
      if (refused != nullptr) *refused = banned_refusal(*b, "the server");
      return false;
    }
    const std::string key = protocol::fold_name(who->name());
    if (const auto held = users_.find(key); held != users_.end()) {
      if (!take_over) return false;
      displaced = held->second.who;
      remove_user(held);
    }
    auto& u = users_.try_emplace(key, user{who, {}}).first->second;
    room* lobby = find_room(options_.default_room);  // never removed
    later = enter(*lobby, u, /*at_login=*/true, default_after);
  }
  if (displaced) displaced->displaced();
  if (later) replay_from_database(*who, *later);
  for (const auto& r : resume) {
    if (protocol::fold_name(r.room) != protocol::fold_name(options_.default_room)) {
      verdict no;
      this->resume(who, r.room, r.after, account, &no);
      if (no && no->retry_after_s) {
        who->deliver(make_frame(
            metrics::error_text(who->mode(), no->code, no->message, *no->retry_after_s)));
      } else if (no) {
        who->deliver(make_frame(metrics::error_text(who->mode(), no->code, no->message)));
      }
    }
  }
  return true;
}

void hub::logout(const member& who) {
  std::lock_guard lock(mutex_);
  const auto it = users_.find(protocol::fold_name(who.name()));
  if (it == users_.end() || it->second.who.get() != &who) return;
  remove_user(it);
}

void hub::remove_user(std::unordered_map<std::string, user>::iterator it) {
  // Kept alive until it has left every room.
  const std::shared_ptr<member> who = it->second.who;
  const auto rooms = std::move(it->second.rooms);
  users_.erase(it);
  for (const joined_room& j : rooms) exit(*j.where, *who);
}

std::string hub::join(const std::shared_ptr<member>& who, std::string_view name, bool account,
                      verdict* refused) {
  std::unique_lock lock(mutex_);
  room& r = open_room(lock, name);
  user* u = find_user(*who);
  if (u == nullptr) return r.name;
  if (find_joined(*u, r) == nullptr) {
    if (verdict no = admit(r, *who, account)) {
      if (refused != nullptr) *refused = std::move(no);
      drop_if_empty(r);
      return {};
    }
    claim_if_unheld(r, *who, account);
  }
  if (joined_room* j = find_joined(*u, r)) {
    // Joining again only refreshes the view; it becomes the current room.
    who->deliver(join_reply(r, *who, /*at_login=*/false));
    const joined_room again = *j;
    std::erase_if(u->rooms, [&](const joined_room& k) { return k.where == &r; });
    u->rooms.push_back(again);
    return r.name;
  }
  enter(r, *u, /*at_login=*/false);
  return r.name;
}

std::string hub::resume(const std::shared_ptr<member>& who, std::string_view name,
                        std::uint64_t after, bool account, verdict* refused) {
  std::optional<replay_request> later;
  std::string room_name;
  {
    std::unique_lock lock(mutex_);
    room& r = open_room(lock, name);
    room_name = r.name;
    user* u = find_user(*who);
    if (u == nullptr) return room_name;
    if (const joined_room* j = find_joined(*u, r)) {
      later = replay(r, *who, after, j->live_from);
    } else if (verdict no = admit(r, *who, account)) {
      if (refused != nullptr) *refused = std::move(no);
      drop_if_empty(r);
      return {};
    } else {
      claim_if_unheld(r, *who, account);
      later = enter(r, *u, /*at_login=*/false, after);
    }
  }
  if (later) replay_from_database(*who, *later);
  return room_name;
}

hub::outcome hub::leave(member& who, std::string_view name, std::string& current) {
  std::lock_guard lock(mutex_);
  user* u = find_user(who);
  room* r = find_room(name);
  if (u == nullptr || r == nullptr || !contains(*r, who)) return outcome::not_in_room;
  std::erase_if(u->rooms, [&](const joined_room& j) { return j.where == r; });
  const std::string room_name = r->name;
  exit(*r, who);
  who.deliver(make_frame(protocol::encode_left(who.mode(), room_name)));
  current = u->rooms.empty() ? std::string() : u->rooms.back().where->name;
  return outcome::ok;
}

void hub::remember(room& r, std::uint64_t id, std::int64_t ts_ms, const member& from,
                   std::string_view text) {
  if (options_.history_limit == 0) {
    remember_id(id);
    return;
  }
  if (r.history.size() == options_.history_limit) {
    r.floor = std::max(r.floor, r.history.front().id);
    r.history.pop_front();
  }
  r.history.push_back({id, ts_ms, from.name(), std::string(text), {}});
  if (options_.database != nullptr) {
    options_.database->append({id, ts_ms, r.key, from.name(), text});
  }
}

void hub::remember_id(std::uint64_t id) {
  // A row with no room and no text keeps only the id, so that the sequence
  // still increases after a restart although the message itself is not kept.
  if (options_.database != nullptr) options_.database->append({id, 0, {}, {}, {}});
}

std::optional<std::uint64_t> hub::publish(const member& from, std::string_view name,
                                          std::string_view text, verdict* refused) {
  std::lock_guard lock(mutex_);
  room* r = find_room(name);
  if (r == nullptr || !contains(*r, from)) return std::nullopt;
  const std::int64_t ts = unix_millis();
  if (const auto until = moderation_.muted_until(r->key, from.name(), ts)) {
    if (refused != nullptr) *refused = muted_refusal(*r, *until);
    return std::nullopt;
  }
  const std::uint64_t id = ++last_id_;
  remember(*r, id, ts, from, text);
  const bool names_room = r->name != options_.default_room;
  broadcast(
      r->members, &from,
      [&](session_mode mode) {
        return protocol::encode_message(mode, {id, ts, r->name, from.name(), text, names_room});
      },
      id, /*timed=*/id % delivery_sample_every == 0);
  return id;
}

std::optional<std::uint64_t> hub::send_direct(const member& from, std::string_view to,
                                              std::string_view text) {
  std::lock_guard lock(mutex_);
  const auto it = users_.find(protocol::fold_name(to));
  if (it == users_.end()) return std::nullopt;
  member& recipient = *it->second.who;
  const std::uint64_t id = ++last_id_;
  remember_id(id);  // direct messages are not kept, but their ids are spent
  metrics::add(metrics::counter::deliveries);
  recipient.deliver(make_frame(protocol::encode_direct(recipient.mode(), id, unix_millis(),
                                                       from.name(), recipient.name(), text),
                               id));
  return id;
}

hub::outcome hub::rename(member& who, const std::string& new_name) {
  std::lock_guard lock(mutex_);
  if (new_name == who.name()) return outcome::ok;  // nothing changes, so no one is told
  const std::string old_key = protocol::fold_name(who.name());
  const std::string new_key = protocol::fold_name(new_name);
  const auto old_entry = users_.find(old_key);
  if (old_entry == users_.end() || old_entry->second.who.get() != &who)
    return outcome::no_such_user;
  if (new_key != old_key && users_.contains(new_key)) return outcome::name_taken;
  user moved = std::move(old_entry->second);
  users_.erase(old_entry);
  const std::string old_name = who.name();
  who.name_ = new_name;
  // Each member sharing a room hears of it once, however many rooms they share.
  std::vector<member*> told{&who};
  for (const joined_room& j : moved.rooms) {
    for (const auto& m : j.where->members) told.push_back(m.get());
  }
  std::sort(told.begin(), told.end());
  told.erase(std::unique(told.begin(), told.end()), told.end());
  users_.emplace(new_key, std::move(moved));
  broadcast(told, nullptr,
            [&](session_mode mode) { return protocol::encode_nick(mode, old_name, new_name); });
  return outcome::ok;
}

hub::outcome hub::send_users(member& who, std::string_view name) {
  std::lock_guard lock(mutex_);
  room* r = find_room(name);
  if (r == nullptr || !contains(*r, who)) return outcome::not_in_room;
  who.deliver(make_frame(protocol::encode_users(who.mode(), r->name, sorted_names(*r))));
  return outcome::ok;
}

void hub::send_rooms(member& who) {
  std::lock_guard lock(mutex_);
  std::vector<protocol::room_summary> summaries;
  summaries.reserve(rooms_.size());
  for (const auto& [key, r] : rooms_) {
    // A private room is seen by its members only.
    if (moderation_.is_private(key) && !contains(*r, who)) continue;
    summaries.push_back({r->name, r->members.size(), r->topic});
  }
  std::sort(summaries.begin(), summaries.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  who.deliver(make_frame(protocol::encode_rooms(who.mode(), summaries)));
}

hub::outcome hub::topic(member& who, std::string_view name,
                        const std::optional<std::string>& text) {
  std::lock_guard lock(mutex_);
  room* r = find_room(name);
  if (r == nullptr || !contains(*r, who)) return outcome::not_in_room;
  if (!text) {
    who.deliver(make_frame(protocol::encode_topic(who.mode(), r->name, r->topic, {})));
    return outcome::ok;
  }
  r->topic = *text;
  broadcast(r->members, nullptr, [&](session_mode mode) {
    return protocol::encode_topic(mode, r->name, r->topic, who.name());
  });
  return outcome::ok;
}

hub::outcome hub::send_history(member& who, std::string_view name, std::uint64_t before,
                               std::size_t limit) {
  std::vector<store::stored_message> page;
  std::string room_name, room_key;
  {
    std::lock_guard lock(mutex_);
    room* r = find_room(name);
    if (r == nullptr || !contains(*r, who)) return outcome::not_in_room;
    room_name = r->name;
    room_key = r->key;
    if (options_.database == nullptr) {
      auto end = r->history.end();
      if (before != 0) {
        end = std::lower_bound(r->history.begin(), r->history.end(), before,
                               [](const stored& s, std::uint64_t id) { return s.id < id; });
      }
      const auto count =
          std::min<std::size_t>(limit, static_cast<std::size_t>(end - r->history.begin()));
      for (auto it = end - static_cast<std::ptrdiff_t>(count); it != end; ++it) {
        page.push_back({it->id, it->ts_ms, room_name, it->from, it->text});
      }
    }
  }
  // The database is read outside the lock: a page from disk must not hold up
  // everyone else's messages.
  if (options_.database != nullptr) {
    page = options_.database->load(room_key, before, limit);
  }
  std::vector<protocol::message_view> views;
  views.reserve(page.size());
  for (const auto& m : page) views.push_back({m.id, m.ts_ms, room_name, m.from, m.text});
  who.deliver(make_frame(protocol::encode_history_page(room_name, views)));
  return outcome::ok;
}

void hub::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

}  // namespace chat::server
