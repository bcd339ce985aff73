#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "bench/tally.hpp"

namespace {

using namespace chat::bench;
using verdict = tally::verdict;

const run_id run = run_id::from_number(0x0badcafe);

std::string text(std::uint32_t slot, std::uint64_t seq, std::uint64_t sent_ns = 0) {
  std::string out(64, ' ');
  write_payload(out.data(), out.size(), run, {slot, seq, sent_ns});
  return out;
}

}  // namespace

TEST_CASE("in-order deliveries are counted once each", "[tally]") {
  tally t(run, 64, 2, 100, std::nullopt);
  const auto first = t.on_message(text(0, 1, 555));
  CHECK(first.what == verdict::delivered);
  CHECK(first.sent_ns == 555);
  CHECK(t.on_message(text(0, 1, 555)).what == verdict::duplicate);
  CHECK(t.on_message(text(1, 1)).what == verdict::delivered);
  CHECK(t.on_message(text(0, 2)).what == verdict::delivered);
  CHECK(t.received() == 3);
  CHECK(t.duplicates() == 1);
  CHECK(t.received_from(0) == 2);
  CHECK(t.highest_seen(0) == 2);
  CHECK(t.highest_seen(1) == 1);
  const std::array<std::uint64_t, 2> sent{2, 1};
  CHECK(t.lost(sent) == 0);
}

TEST_CASE("a gap never filled is loss; filled late it is reordering", "[tally]") {
  tally t(run, 64, 1, 100, std::nullopt);
  for (const std::uint64_t seq : {1, 2, 5, 6, 3, 9}) {
    const auto outcome = t.on_message(text(0, seq)).what;
    CHECK(outcome == (seq == 3 ? verdict::late : verdict::delivered));
  }
  // 4, 7, 8 missing; 3 came late.
  CHECK(t.received() == 6);
  CHECK(t.reordered() == 1);
  CHECK(t.highest_seen(0) == 9);
  const std::array<std::uint64_t, 1> sent_nine{9};
  CHECK(t.lost(sent_nine) == 3);
  // The sender sent more than anyone saw: the tail is lost too.
  const std::array<std::uint64_t, 1> sent_twelve{12};
  CHECK(t.lost(sent_twelve) == 6);

  CHECK(t.on_message(text(0, 8)).what == verdict::late);
  CHECK(t.on_message(text(0, 7)).what == verdict::late);
  CHECK(t.on_message(text(0, 4)).what == verdict::late);
  CHECK(t.lost(sent_nine) == 0);
  CHECK(t.reordered() == 4);
  // Every gap is closed now: any repeat is a duplicate.
  for (std::uint64_t seq = 1; seq <= 9; ++seq) {
    CHECK(t.on_message(text(0, seq)).what == verdict::duplicate);
  }
  CHECK(t.duplicates() == 9);
  CHECK(t.received() == 9);
}

TEST_CASE("a late message splits its gap; duplicates of late ones are caught", "[tally]") {
  tally t(run, 64, 1, 1000, std::nullopt);
  CHECK(t.on_message(text(0, 100)).what == verdict::delivered);  // gap 1..99
  CHECK(t.on_message(text(0, 50)).what == verdict::late);        // 1..49, 51..99
  CHECK(t.on_message(text(0, 50)).what == verdict::duplicate);
  CHECK(t.on_message(text(0, 1)).what == verdict::late);
  CHECK(t.on_message(text(0, 99)).what == verdict::late);
  CHECK(t.on_message(text(0, 98)).what == verdict::late);
  CHECK(t.on_message(text(0, 1)).what == verdict::duplicate);
  CHECK(t.on_message(text(0, 100)).what == verdict::duplicate);
  const std::array<std::uint64_t, 1> sent{100};
  CHECK(t.lost(sent) == 95);  // 2..49 and 51..97
  CHECK(t.reordered() == 4);
  CHECK(t.duplicates() == 3);
}

TEST_CASE("foreign, echoed, warm-up and out-of-range messages", "[tally]") {
  tally t(run, 64, 3, 10, std::uint32_t{1});
  CHECK(t.on_message("hello from a person").what == verdict::foreign);
  std::string other(64, ' ');
  write_payload(other.data(), other.size(), run_id::from_number(1), {0, 1, 0});
  CHECK(t.on_message(other).what == verdict::foreign);
  CHECK(t.foreign() == 2);

  CHECK(t.on_message(text(1, 1)).what == verdict::echo);  // its own slot
  CHECK(t.echoes() == 1);

  CHECK_FALSE(t.warmed_up());
  CHECK(t.on_message(text(0, 0)).what == verdict::warm_up);
  CHECK(t.warmed_up());

  CHECK(t.on_message(text(3, 1)).what == verdict::malformed);   // no such sender
  CHECK(t.on_message(text(0, 11)).what == verdict::malformed);  // past the message count
  CHECK(t.on_message(text(0, 1).substr(0, 60)).what == verdict::malformed);
  CHECK(t.malformed() == 3);
  CHECK(t.received() == 0);

  // Its own slot owes it nothing.
  const std::array<std::uint64_t, 3> sent{0, 10, 0};
  CHECK(t.lost(sent) == 0);
}
