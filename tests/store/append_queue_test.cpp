#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "sample_messages.hpp"
#include "store/detail/append_queue.hpp"

namespace {

using chat::store::stored_message;
using chat::store::detail::append_queue;
using chat::store::test::ids_of;
using chat::store::test::sample_message;
using namespace std::chrono_literals;

using chat::store::detail::packed_messages;
using chat::store::detail::routed_record;

// The ids of a batch, checking on the way that each message comes back whole.
std::vector<std::uint64_t> ids_of(const packed_messages& batch) {
  std::vector<std::uint64_t> ids;
  batch.for_each([&](const routed_record& record) {
    CHECK(chat::store::detail::unpack_routed(record) == sample_message(record.id));
    ids.push_back(record.id);
  });
  CHECK(ids.size() == batch.count);
  return ids;
}

std::vector<std::uint64_t> sorted_ids(const std::vector<stored_message>& messages) {
  std::vector<std::uint64_t> ids = ids_of(messages);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A batch interval no test waits out: anything that ends sooner was woken.
constexpr auto forever = 60s;

}  // namespace

TEST_CASE("append_queue: a batch holds everything queued, in order", "[store]") {
  append_queue queue(100'000, 100, 0ms);
  for (std::uint64_t id = 1; id <= 3; ++id) queue.push(sample_message(id));
  auto batch = queue.take();
  REQUIRE(batch);
  CHECK(ids_of(batch->messages) == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(batch->messages.highest_id == 3);
  CHECK_FALSE(batch->closing);
  queue.finish();
}

TEST_CASE("append_queue: batches are cut at max_batch", "[store]") {
  append_queue queue(100'000, 2, 0ms);
  for (std::uint64_t id = 1; id <= 5; ++id) queue.push(sample_message(id));
  std::vector<std::vector<std::uint64_t>> batches;
  queue.close();
  while (auto batch = queue.take()) {
    batches.push_back(ids_of(batch->messages));
    queue.finish();
  }
  CHECK(batches == std::vector<std::vector<std::uint64_t>>{{1, 2}, {3, 4}, {5}});
}

TEST_CASE("append_queue: past its bound it is backlogged, never drops, until below half",
          "[store]") {
  // Each sample message packs into some tens of bytes: 1000 is a few dozen.
  append_queue queue(1'000, 10, 0ms);
  std::uint64_t id = 0;
  while (!queue.backlogged()) queue.push(sample_message(++id));
  const std::uint64_t first_backlogged = id;
  for (int more = 0; more < 50; ++more) queue.push(sample_message(++id));
  CHECK(queue.backlogged());

  // Everything comes out, batch by batch; the flag goes once below half.
  std::vector<std::uint64_t> taken;
  bool was_backlogged = true;
  std::size_t batches_until_clear = 0;
  queue.close();
  while (auto batch = queue.take()) {
    const auto ids = ids_of(batch->messages);
    taken.insert(taken.end(), ids.begin(), ids.end());
    const bool still = queue.settle();
    CHECK(still == queue.backlogged());
    // Never on again while draining.
    CHECK((was_backlogged || !still));
    if (was_backlogged && !still) batches_until_clear = taken.size();
    was_backlogged = still;
    queue.finish();
  }
  CHECK(taken.size() == id);
  CHECK(taken.back() == id);
  CHECK_FALSE(queue.backlogged());
  // Cleared only once most of the backlog was written, not at the first batch.
  CHECK(batches_until_clear > first_backlogged / 2);
}

TEST_CASE("append_queue: take gives up after its idle limit with an empty batch", "[store]") {
  append_queue queue(1'000, 10, 0ms);
  auto idle = queue.take(1ms);
  REQUIRE(idle);
  CHECK(idle->messages.count == 0);
  queue.push(sample_message(1));
  auto batch = queue.take(1ms);
  REQUIRE(batch);
  CHECK(ids_of(batch->messages) == std::vector<std::uint64_t>{1});
  queue.settle();
  queue.finish();
}

TEST_CASE("append_queue: unwritten_after keeps the lowest ids in the range", "[store]") {
  append_queue queue(100'000, 3, 0ms);
  for (std::uint64_t id = 1; id <= 10; ++id) queue.push(sample_message(id));
  auto batch = queue.take();  // 1..3 in flight, still visible
  REQUIRE(batch);
  CHECK(sorted_ids(queue.unwritten_after("lobby", 2, 8, 3)) == std::vector<std::uint64_t>{3, 4, 5});
  CHECK(sorted_ids(queue.unwritten_after("lobby", 7, 100, 10)) ==
        std::vector<std::uint64_t>{8, 9, 10});
  CHECK(queue.unwritten_after("lobby", 10, 100, 10).empty());
  CHECK(queue.unwritten_after("dev", 0, 100, 10).empty());
  queue.settle();
  queue.finish();
}

TEST_CASE("append_queue: unwritten shows queued and in-flight messages of a room", "[store]") {
  append_queue queue(100'000, 2, 0ms);
  for (std::uint64_t id = 1; id <= 6; ++id) queue.push(sample_message(id, id % 2 ? "a" : "b"));
  CHECK(queue.highest_id() == 6);

  auto batch = queue.take();  // 1 and 2 are being written, 3..6 wait
  REQUIRE(batch);
  CHECK(sorted_ids(queue.unwritten("a", 0, 10)) == std::vector<std::uint64_t>{1, 3, 5});
  CHECK(sorted_ids(queue.unwritten("b", 0, 10)) == std::vector<std::uint64_t>{2, 4, 6});
  CHECK(sorted_ids(queue.unwritten("a", 5, 10)) == std::vector<std::uint64_t>{1, 3});
  // The limit keeps the newest, as a page of history does.
  CHECK(sorted_ids(queue.unwritten("a", 0, 2)) == std::vector<std::uint64_t>{3, 5});
  CHECK(queue.unwritten("c", 0, 10).empty());
  CHECK(queue.unwritten("a", 0, 0).empty());

  queue.finish();  // 1 and 2 are on disk now, the queue forgets them
  CHECK(sorted_ids(queue.unwritten("a", 0, 10)) == std::vector<std::uint64_t>{3, 5});
}

TEST_CASE("append_queue: unwritten orders by id, not by push order", "[store]") {
  append_queue queue(100'000, 100, 0ms);
  for (std::uint64_t id : {5, 2, 9, 1}) queue.push(sample_message(id));
  CHECK(sorted_ids(queue.unwritten("lobby", 0, 2)) == std::vector<std::uint64_t>{5, 9});
  CHECK(queue.highest_id() == 9);
}

TEST_CASE("append_queue: wait_finished ends the batch wait and returns once written", "[store]") {
  append_queue queue(100'000'000, 1'000, forever);
  std::atomic<std::size_t> written{0};
  std::thread writer([&] {
    while (auto batch = queue.take()) {
      written += batch->messages.count;
      queue.finish();
    }
  });
  for (std::uint64_t id = 1; id <= 2'500; ++id) queue.push(sample_message(id));
  queue.wait_finished();
  CHECK(written == 2'500);

  queue.push(sample_message(2'501));
  queue.wait_finished();
  CHECK(written == 2'501);

  // Nothing pending: returns at once.
  queue.wait_finished();
  queue.close();
  writer.join();
}

TEST_CASE("append_queue: close drains what is queued, then ends", "[store]") {
  append_queue queue(100'000, 100, forever);
  for (std::uint64_t id = 1; id <= 3; ++id) queue.push(sample_message(id));
  queue.close();
  auto batch = queue.take();
  REQUIRE(batch);
  CHECK(ids_of(batch->messages) == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(batch->closing);
  queue.finish();
  CHECK_FALSE(queue.take());
}

TEST_CASE("append_queue: discard gives up on everything queued", "[store]") {
  append_queue queue(100, 1, 0ms);
  for (std::uint64_t id = 1; id <= 4; ++id) queue.push(sample_message(id));
  CHECK(queue.backlogged());
  auto batch = queue.take();
  REQUIRE(batch);
  CHECK(ids_of(batch->messages) == std::vector<std::uint64_t>{1});
  queue.settle();
  queue.finish();
  const auto lost = queue.discard();
  CHECK(lost.count == 3);
  CHECK(lost.highest_id == 4);
  CHECK_FALSE(queue.backlogged());
  CHECK(queue.unwritten("lobby", 0, 10).empty());
  queue.wait_finished();  // nothing left to wait for
  queue.close();
  CHECK_FALSE(queue.take());
}
