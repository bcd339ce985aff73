#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "bench/payload.hpp"

namespace chat::bench {

// One receiver's account of the messages it got. Per sender it keeps the next
// sequence number it expects and the gaps seen so far: TCP and the server keep
// each sender's order, so the common case costs one comparison, and memory
// grows with gaps, not with the number of messages.
class tally {
public:
  enum class verdict {
    delivered,  // first copy, in order or after a gap
    late,       // first copy, but after a later message of its sender
    duplicate,  // a copy of a message already counted
    warm_up,    // this run's warm-up message: never counted
    echo,       // the receiver's own message came back to it
    foreign,    // not this run's: another run, another tool, a person
    malformed,  // this run's header, but cut, padded or out of range
  };
  struct outcome {
    verdict what;
    std::uint64_t sent_ns = 0;  // set for delivered and late
  };

  // `own_slot` is the receiver's sender slot when it also sends (chatroom).
  tally(const run_id& run, std::size_t payload_size, std::uint32_t senders, std::uint64_t max_seq,
        std::optional<std::uint32_t> own_slot);

  // Counts the text of one message frame.
  outcome on_message(std::string_view text);

  // Distinct messages counted, whatever their order.
  std::uint64_t received() const noexcept { return received_; }
  std::uint64_t received_from(std::uint32_t slot) const noexcept { return tracks_[slot].received; }
  // The highest sequence number seen from `slot`: what a window waits on, so
  // that a lost message holds no sender back.
  std::uint64_t highest_seen(std::uint32_t slot) const noexcept { return tracks_[slot].next - 1; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  std::uint64_t reordered() const noexcept { return reordered_; }
  std::uint64_t echoes() const noexcept { return echoes_; }
  std::uint64_t foreign() const noexcept { return foreign_; }
  std::uint64_t malformed() const noexcept { return malformed_; }
  bool warmed_up() const noexcept { return warmed_up_; }

  // What this receiver should have got but did not, given how many messages
  // each sender slot sent (its own slot excepted).
  std::uint64_t lost(std::span<const std::uint64_t> sent_per_slot) const noexcept;

private:
  // Sequence numbers [first, end) not seen yet, though a later one was.
  struct gap {
    std::uint64_t first;
    std::uint64_t end;
  };
  struct track {
    std::uint64_t next = 1;
    std::uint64_t received = 0;
    std::vector<gap> gaps;  // ascending, disjoint; almost always empty
  };

  // True if `seq` was missing: it is taken out of the gaps.
  static bool fill_gap(track& t, std::uint64_t seq);

  run_id run_;
  std::size_t payload_size_;
  std::uint64_t max_seq_;
  std::optional<std::uint32_t> own_slot_;
  std::vector<track> tracks_;
  std::uint64_t received_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t echoes_ = 0;
  std::uint64_t foreign_ = 0;
  std::uint64_t malformed_ = 0;
  bool warmed_up_ = false;
};

}  // namespace chat::bench
