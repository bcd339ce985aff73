// Resume paging: a client that saw up to an id asks for what came after, a
// page at a time, from the queue and the disk alike.

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "sample_messages.hpp"
#include "test_store.hpp"

using namespace chat::store;
using namespace chat::store::test;

namespace {

const char* room_of(std::uint64_t id) { return id % 3 == 0 ? "dev" : "lobby"; }

id_list lobby_ids(std::uint64_t after, std::uint64_t through) {
  id_list ids;
  for (std::uint64_t id = after + 1; id <= through; ++id) {
    if (id % 3 != 0) ids.push_back(id);
  }
  return ids;
}

}  // namespace

TEST_CASE("history_database: load_after pages forward across chunks and rooms", "[store]") {
  test_store store;
  history_database db = store.open({.max_batch = 7});  // chunk seams everywhere
  for (std::uint64_t id = 1; id <= 300; ++id) db.append(sample_message(id, room_of(id)));
  db.flush();

  // Page by page with the last id seen, as a client does after "more".
  id_list paged;
  std::uint64_t after = 0;
  int pages = 0;
  for (;;) {
    const auto page = db.load_after("lobby", after, 300, 15);
    CHECK(page.lost_through == 0);
    REQUIRE(page.messages.size() <= 15);
    for (const auto& m : page.messages) CHECK(m.room == "lobby");
    const auto ids = ids_of(page.messages);
    paged.insert(paged.end(), ids.begin(), ids.end());
    ++pages;
    if (!page.more) break;
    REQUIRE_FALSE(page.messages.empty());
    after = page.messages.back().id;
  }
  CHECK(paged == lobby_ids(0, 300));
  CHECK(pages == 14);  // 200 messages, 15 a page: the last page is not full and says no more

  // Bounds: (after, through], after in the middle of a chunk.
  CHECK(ids_of(db.load_after("lobby", 10, 20, 100).messages) == lobby_ids(10, 20));
  CHECK(ids_of(db.load_after("dev", 10, 20, 100).messages) == id_list{12, 15, 18});
  // A page that exactly fits is not followed by "more".
  const auto exact = db.load_after("dev", 0, 9, 3);
  CHECK(ids_of(exact.messages) == id_list{3, 6, 9});
  CHECK_FALSE(exact.more);
  const auto short_by_one = db.load_after("dev", 0, 12, 3);
  CHECK(ids_of(short_by_one.messages) == id_list{3, 6, 9});
  CHECK(short_by_one.more);
  // Nothing after the end, nothing in an empty range, nothing in a room never seen.
  CHECK(db.load_after("lobby", 300, 0, 10).messages.empty());
  CHECK_FALSE(db.load_after("lobby", 300, 0, 10).more);
  CHECK(db.load_after("lobby", 20, 20, 10).messages.empty());
  CHECK(db.load_after("lobby", 30, 20, 10).messages.empty());
  const auto unknown = db.load_after("nowhere", 0, 0, 10);
  CHECK(unknown.messages.empty());
  CHECK(unknown.lost_through == 0);
  // through = 0: no upper bound.
  CHECK(ids_of(db.load_after("lobby", 295, 0, 10).messages) == lobby_ids(295, 300));
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: load_after sees messages not yet written", "[store]") {
  test_store store;
  history_database db = store.open(holding_writer());
  for (std::uint64_t id = 1; id <= 30; ++id) db.append(sample_message(id, room_of(id)));
  db.flush();
  for (std::uint64_t id = 31; id <= 60; ++id) db.append(sample_message(id, room_of(id)));
  // One page across the disk and the queue, and one within the queue.
  const auto across = db.load_after("lobby", 25, 0, 8);
  CHECK(ids_of(across.messages) == id_list{26, 28, 29, 31, 32, 34, 35, 37});
  CHECK(across.more);
  const auto queued = db.load_after("lobby", 50, 58, 100);
  CHECK(ids_of(queued.messages) == lobby_ids(50, 58));
  CHECK_FALSE(queued.more);
  db.flush();
  CHECK(ids_of(db.load_after("lobby", 25, 0, 8).messages) == ids_of(across.messages));
  CHECK(store.errors().empty());
}
