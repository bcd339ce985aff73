#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>

#include <sys/resource.h>

#include "raw_database.hpp"
#include "sample_messages.hpp"
#include "test_store.hpp"

// The writer meets a disk that says no: an index another connection has
// locked, as when a backup tool or a second process holds it (a busy writer,
// and past the busy timeout a failing one), and a chunk file that cannot grow.

using namespace chat::store;
using namespace chat::store::test;
using namespace std::chrono_literals;

TEST_CASE("history_database: append does not wait for a writer stuck on the disk", "[store]") {
  test_store store;
  constexpr std::uint64_t count = 100'000;
  history_database db = store.open();
  raw_database other(db.path());
  other.execute("BEGIN IMMEDIATE");
  // The writer blocks on its first batch until the lock goes; if append
  // waited for it, this loop would stall and the batch would time out.
  for (std::uint64_t id = 1; id <= count; ++id) db.append(sample_message(id));
  other.execute("COMMIT");
  db.flush();
  const auto stored = db.load("lobby", 0, count);
  REQUIRE(stored.size() == count);
  CHECK(stored.front().id == 1);
  CHECK(stored.back().id == count);
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: a failing write is reported and the store carries on", "[store]") {
  test_store store;
  // Only flush() makes the writer write: one batch per flush, as counted below.
  history_options options = holding_writer();
  options.busy_timeout = 50ms;
  history_database db = store.open(options);
  std::optional<raw_database> other(db.path());
  other->execute("BEGIN IMMEDIATE");

  for (std::uint64_t id = 1; id <= 5; ++id) db.append(sample_message(id));
  db.flush();  // returns although the write failed
  auto lines = store.errors();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("cannot save 5 messages"));
  CHECK_THAT(lines[0], Catch::Contains(db.path().string()));
  CHECK_THAT(lines[0], Catch::Contains("locked"));

  // Still failing: no new report for every batch.
  for (std::uint64_t id = 6; id <= 7; ++id) db.append(sample_message(id));
  db.flush();
  CHECK(store.errors().size() == 1);

  other->execute("COMMIT");
  other.reset();
  for (std::uint64_t id = 8; id <= 10; ++id) db.append(sample_message(id));
  db.flush();
  lines = store.errors();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1], Catch::Contains("work again"));
  CHECK_THAT(lines[1], Catch::Contains("7 messages were not saved"));
  // The failed batches are gone from disk (the server still has them in
  // memory); everything after the recovery is there.
  CHECK(db.load("lobby", 0, 100) == sample_messages(8, 10));
  CHECK(db.last_id() == 10);
}

TEST_CASE("history_database: shutdown gives up on a failing disk instead of hanging", "[store]") {
  test_store store;
  std::optional<raw_database> other;
  {
    history_database db = store.open({.max_batch = 10, .busy_timeout = 50ms});
    other.emplace(db.path());
    other->execute("BEGIN IMMEDIATE");
    // A thousand batches at 50 ms each would hold the destructor for almost a minute.
    for (std::uint64_t id = 1; id <= 10'000; ++id) db.append(sample_message(id));
  }
  other->execute("COMMIT");
  other.reset();

  const auto lines = store.errors();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::Contains("cannot save"));
  CHECK_THAT(lines[1], Catch::Contains("at shutdown"));
  history_database db = store.open();
  CHECK(db.load("lobby", 0, 100).empty());
  // The ids were handed out (and their messages delivered) though never
  // stored: the next server starts past them, as after a crash.
  CHECK(db.last_id() > 10'000);
}

TEST_CASE(
    "history_database: a chunk file that cannot grow is reported, and the next batch "
    "takes the failed one's place",
    "[store]") {
  test_store store;
  // Only flush() makes the writer write: one batch per flush, as counted below.
  history_database db = store.open(holding_writer());
  for (std::uint64_t id = 1; id <= 5'000; ++id) db.append(sample_message(id));
  db.flush();
  const auto chunks = store.chunks_file();
  const auto written = std::filesystem::file_size(chunks);

  // The chunk file may not grow (the index, far smaller, still can): as a
  // full disk, for this process alone. Writing past the limit then fails
  // with EFBIG instead of raising SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit before{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &before) == 0);
  rlimit capped = before;
  capped.rlim_cur = written;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &capped) == 0);
  for (std::uint64_t id = 5'001; id <= 5'010; ++id) db.append(sample_message(id));
  db.flush();
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &before) == 0);

  auto lines = store.errors();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("cannot save 10 messages"));
  CHECK_THAT(lines[0], Catch::Contains(chunks.string()));
  CHECK(std::filesystem::file_size(chunks) <= written);

  for (std::uint64_t id = 5'011; id <= 5'020; ++id) db.append(sample_message(id));
  db.flush();
  lines = store.errors();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1], Catch::Contains("work again"));
  // The failed batch is lost from disk (the server still has it in memory);
  // the one after it is whole, where the failed one would have gone.
  CHECK(ids_of(db.load("lobby", 5'010, 100)).back() == 5'000);
  CHECK(db.load("lobby", 0, 10) == sample_messages(5'011, 5'020));
}
