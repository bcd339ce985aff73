// A frame is freed once, when its last handle goes, however the handles were
// made and on whatever threads they go. The dev preset (AddressSanitizer)
// reports a frame freed early, twice or never; the tsan preset a count
// updated without synchronisation.

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "server/frame.hpp"

using chat::server::frame;
using chat::server::frame_copies;
using chat::server::make_frame;

TEST_CASE("frame: copies and moves share one body", "[frame]") {
  frame a = make_frame("hello\n");
  frame b = a;
  frame c = std::move(a);
  CHECK(a == nullptr);
  CHECK(&*b == &*c);
  a = b;
  b = frame();
  CHECK(b == nullptr);
  CHECK(*a == "hello\n");
  CHECK(*c == "hello\n");
}

TEST_CASE("frame_copies: handles outlive it, and those not handed out are given back", "[frame]") {
  std::vector<frame> handed;
  {
    frame_copies copies(make_frame("to many\n"), 5);
    handed.push_back(copies.next());
    handed.push_back(copies.next());
  }
  CHECK(*handed[0] == "to many\n");
  CHECK(&*handed[0] == &*handed[1]);
  handed.pop_back();
  CHECK(handed[0]->size() == 8);

  // Every handle taken, and none.
  frame first;
  {
    frame_copies all(make_frame("all\n"), 2);
    first = all.next();
    frame second = all.next();
  }
  CHECK(*first == "all\n");
  { frame_copies none(make_frame("none\n"), 3); }
}

TEST_CASE("frame_copies: every handle handed out and gone before it goes", "[frame]") {
  // As when every recipient was sealed and dropped its handle at once.
  frame_copies copies(make_frame("dropped\n"), 2);
  { frame first = copies.next(); }
  { frame second = copies.next(); }
}

TEST_CASE("frame: handles released on many threads free the body once", "[frame]") {
  constexpr int threads = 4;
  constexpr int handles_each = 1'000;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::vector<frame>> per_thread(threads);
    {
      frame_copies copies(make_frame("round " + std::to_string(round) + "\n"),
                          threads * handles_each + 1);
      for (auto& handles : per_thread) {
        for (int i = 0; i < handles_each; ++i) handles.push_back(copies.next());
      }
    }
    // Catch's assertions are not thread-safe: each thread counts what it read.
    std::vector<int> whole(threads, 0);
    std::vector<std::thread> releasers;
    for (int t = 0; t < threads; ++t) {
      releasers.emplace_back([&handles = per_thread[t], &count = whole[t]] {
        // Copies made and dropped here too, racing the other threads.
        for (frame& f : handles) {
          const frame extra = f;
          f = frame();
          if (extra->back() == '\n') ++count;
        }
      });
    }
    for (auto& t : releasers) t.join();
    CHECK(whole == std::vector<int>(threads, handles_each));
  }
}
