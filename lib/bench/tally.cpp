#include "bench/tally.hpp"

#include <algorithm>

namespace chat::bench {

tally::tally(const run_id& run, std::size_t payload_size, std::uint32_t senders,
             std::uint64_t max_seq, std::optional<std::uint32_t> own_slot)
    : run_(run),
      payload_size_(payload_size),
      max_seq_(max_seq),
      own_slot_(own_slot),
      tracks_(senders) {}

tally::outcome tally::on_message(std::string_view text) {
  const parsed_payload payload = parse_payload(text, run_, payload_size_);
  switch (payload.kind) {
    case payload_kind::ours: break;
    case payload_kind::other_run:
    case payload_kind::foreign: ++foreign_; return {verdict::foreign};
    case payload_kind::malformed: ++malformed_; return {verdict::malformed};
  }
  const stamp& fields = payload.fields;
  if (fields.slot >= tracks_.size() || fields.seq > max_seq_) {
    ++malformed_;
    return {verdict::malformed};
  }
  if (own_slot_ == fields.slot) {
    ++echoes_;
    return {verdict::echo};
  }
  if (fields.seq == 0) {
    warmed_up_ = true;
    return {verdict::warm_up};
  }
  track& t = tracks_[fields.slot];
  if (fields.seq >= t.next) {
    if (fields.seq > t.next) t.gaps.push_back({t.next, fields.seq});
    t.next = fields.seq + 1;
    ++t.received;
    ++received_;
    return {verdict::delivered, fields.sent_ns};
  }
  if (!fill_gap(t, fields.seq)) {
    ++duplicates_;
    return {verdict::duplicate};
  }
  ++t.received;
  ++received_;
  ++reordered_;
  return {verdict::late, fields.sent_ns};
}

bool tally::fill_gap(track& t, std::uint64_t seq) {
  // The last gap whose first <= seq.
  auto it = std::upper_bound(t.gaps.begin(), t.gaps.end(), seq,
                             [](std::uint64_t s, const gap& g) { return s < g.first; });
  if (it == t.gaps.begin()) return false;
  --it;
  if (seq >= it->end) return false;
  if (it->first == seq) {
    ++it->first;
  } else if (it->end == seq + 1) {
    --it->end;
  } else {
    const gap tail{seq + 1, it->end};
    it->end = seq;
    t.gaps.insert(it + 1, tail);
    return true;
  }
  if (it->first == it->end) t.gaps.erase(it);
  return true;
}

std::uint64_t tally::lost(std::span<const std::uint64_t> sent_per_slot) const noexcept {
  std::uint64_t missing = 0;
  const std::size_t slots = std::min(sent_per_slot.size(), tracks_.size());
  for (std::size_t slot = 0; slot < slots; ++slot) {
    if (own_slot_ == slot) continue;
    const std::uint64_t got = tracks_[slot].received;
    if (sent_per_slot[slot] > got) missing += sent_per_slot[slot] - got;
  }
  return missing;
}

}  // namespace chat::bench
