#include "client/resume_state.hpp"

#include <algorithm>
#include <utility>

#include "protocol/json_text.hpp"
#include "protocol/names.hpp"

namespace chat::client {

std::string encode_resume_request(std::string_view room, std::uint64_t after) {
  std::string out(R"({"type":"resume","room":)");
  protocol::append_json_string(out, room);
  out.append(R"(,"after":)").append(std::to_string(after)).append("}\n");
  return out;
}

resume_state::outcome resume_state::apply(const server_event& event) {
  using kind = server_event::kind;
  outcome result;
  switch (event.type) {
    case kind::welcome:
    case kind::joined: {
      // A room we had before (a resumed one, or joined again) keeps its
      // cursor; joining again makes it the last, as session_state has it.
      const auto it = std::find_if(rooms_.begin(), rooms_.end(), [&](const cursor& c) {
        return protocol::fold_name(c.room) == protocol::fold_name(event.room);
      });
      if (it == rooms_.end()) {
        track(event.room, live_mark_);
      } else {
        cursor moved = std::move(*it);
        moved.room = event.room;
        rooms_.erase(it);
        rooms_.push_back(std::move(moved));
      }
      break;
    }
    case kind::left: forget(event.room); break;
    case kind::message:
      if (!event.history) live_mark_ = std::max(live_mark_, event.id);
      result.show = saw(event.room, event.id, event.history);
      break;
    case kind::history:
      // Older pages (/history): below the cursor, but a first one may not be.
      for (const auto& m : event.messages) saw(event.room, m.id, /*replayed=*/false);
      break;
    case kind::ack:
      live_mark_ = std::max(live_mark_, event.id);
      if (event.ref) {
        const auto it = unconfirmed_.find(*event.ref);
        if (it != unconfirmed_.end()) {
          saw(it->second.room, event.id, /*replayed=*/false);
          unconfirmed_.erase(it);
          result.show = false;
        }
      }
      break;
    case kind::error:
      if (event.ref) {
        const auto it = unconfirmed_.find(*event.ref);
        if (it != unconfirmed_.end()) {
          result.about = std::move(it->second);
          unconfirmed_.erase(it);
        }
      }
      break;
    case kind::gap:
      // Nothing in the range will come: resuming inside it would only ask
      // for the same gap again.
      if (cursor* c = find_mutable(event.room)) c->through = std::max(c->through, event.to_id);
      break;
    case kind::more:
      if (cursor* c = find_mutable(event.room)) {
        c->through = std::max(c->through, event.after);
        result.follow = encode_resume_request(c->room, event.after);
      }
      break;
    default: break;
  }
  return result;
}

bool resume_state::saw(std::string_view room, std::uint64_t id, bool replayed) {
  cursor* c = find_mutable(room);
  if (c == nullptr) return true;
  if (c->replays == 0 && c->seen_above.empty()) {
    c->through = std::max(c->through, id);
    return true;
  }
  if (c->seen_above.contains(id)) return false;
  if (replayed) {
    // A replay comes oldest first, so everything below it is in.
    c->through = std::max(c->through, id);
    c->seen_above.erase(c->seen_above.begin(), c->seen_above.upper_bound(c->through));
  } else if (id > c->through) {
    c->seen_above.insert(id);
  }
  if (c->replays == 0) settle(*c);
  return true;
}

void resume_state::settle(cursor& c) {
  if (!c.seen_above.empty()) c.through = std::max(c.through, *c.seen_above.rbegin());
  c.seen_above.clear();
}

std::uint64_t resume_state::sent(std::string_view room, std::string_view text) {
  const std::uint64_t ref = next_ref_++;
  unconfirmed_.emplace(ref, sent_message{std::string(room), std::string(text)});
  return ref;
}

void resume_state::expect(std::string_view room, std::uint64_t through) {
  if (find(room) == nullptr) track(room, through);
}

void resume_state::replay_requested(std::string_view room, std::uint64_t after) {
  cursor* c = find_mutable(room);
  if (c == nullptr) c = &track(room, after);
  ++c->replays;
}

void resume_state::replay_answered(std::string_view room) {
  cursor* c = find_mutable(room);
  if (c == nullptr || c->replays == 0) return;
  if (--c->replays == 0) settle(*c);
}

void resume_state::connection_lost() {
  // seen_above stays: the next replay brings those messages again.
  for (cursor& c : rooms_) c.replays = 0;
  unconfirmed_.clear();
}

void resume_state::forget(std::string_view room) {
  const std::string key = protocol::fold_name(room);
  std::erase_if(rooms_, [&](const cursor& c) { return protocol::fold_name(c.room) == key; });
}

const resume_state::cursor* resume_state::find(std::string_view room) const {
  const std::string key = protocol::fold_name(room);
  const auto it = std::find_if(rooms_.begin(), rooms_.end(),
                               [&](const cursor& c) { return protocol::fold_name(c.room) == key; });
  return it == rooms_.end() ? nullptr : &*it;
}

resume_state::cursor* resume_state::find_mutable(std::string_view room) {
  return const_cast<cursor*>(std::as_const(*this).find(room));
}

resume_state::cursor& resume_state::track(std::string_view room, std::uint64_t through) {
  cursor c;
  c.room = std::string(room);
  c.through = through;
  rooms_.push_back(std::move(c));
  return rooms_.back();
}

std::string encode_resume_hello(std::string_view user,
                                const std::vector<resume_state::cursor>& rooms, std::size_t most) {
  std::string out(R"({"type":"hello","user":)");
  protocol::append_json_string(out, user);
  out.append(R"(,"resume":{)");
  std::size_t written = 0;
  for (const auto& c : rooms) {
    if (written == most) break;
    if (written++ != 0) out.push_back(',');
    protocol::append_json_string(out, c.room);
    out.push_back(':');
    out.append(std::to_string(c.through));
  }
  out.append("}}\n");
  return out;
}

}  // namespace chat::client
