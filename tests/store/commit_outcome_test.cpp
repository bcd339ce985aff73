// Group commit as the hub sees it: an outcome per batch, in order, covering
// every id appended, so that an ack can wait for its message to be on disk;
// back-pressure instead of dropping; failed writes told per batch and
// remembered as gaps; and what was reported stored survives a kill -9.

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "raw_database.hpp"
#include "sample_messages.hpp"
#include "test_store.hpp"

using namespace chat::store;
using namespace chat::store::test;
using namespace std::chrono_literals;

namespace {

// Outcomes must rise strictly and end at `last`.
void check_in_order(const std::vector<commit_outcome>& outcomes, std::uint64_t last) {
  REQUIRE_FALSE(outcomes.empty());
  for (std::size_t i = 1; i < outcomes.size(); ++i) {
    CHECK(outcomes[i - 1].through_id < outcomes[i].through_id);
  }
  CHECK(outcomes.back().through_id == last);
}

}  // namespace

TEST_CASE("history_database: outcomes come in order and cover every id, id-only ones too",
          "[store]") {
  const auto mode = GENERATE(sync_mode::none, sync_mode::batch);
  test_store store;
  history_database db = store.open_reporting({.max_batch = 64, .sync = mode});
  std::vector<stored_message> lobby;
  for (std::uint64_t id = 1; id <= 1'000; ++id) {
    if (id % 5 == 0) {
      db.append({id, 0, {}, {}, {}});  // a direct message: its id only
    } else {
      lobby.push_back(sample_message(id));
      db.append(lobby.back());
    }
  }
  db.append({1'001, 0, {}, {}, {}});  // the last batch holds an id only
  // flush() returns once the outcome of everything before it was told.
  db.flush();
  const auto told = store.outcomes();
  check_in_order(told, 1'001);
  for (const commit_outcome& o : told) {
    CHECK(o.stored);
    CHECK_FALSE(o.backlogged);
  }
  // Batches of max_batch, not one per message (nor one in all).
  CHECK(told.size() >= 1'001 / 64);
  CHECK(db.load("lobby", 0, 10'000) == lobby);
  CHECK(db.available());
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: backlogged past the bound, never dropping, clear below half",
          "[store]") {
  test_store store;
  history_database db = store.open_reporting({.max_backlog_bytes = 8'192, .max_batch = 20});
  std::optional<raw_database> other(db.path());
  // The writer waits for the lock with its first batch; the rest piles up.
  other->execute("BEGIN IMMEDIATE");
  std::uint64_t id = 0;
  while (!db.backlogged()) db.append(sample_message(++id));
  for (int more = 0; more < 200; ++more) db.append(sample_message(++id));
  CHECK(db.backlogged());
  other->execute("COMMIT");
  other.reset();
  db.flush();
  CHECK_FALSE(db.backlogged());

  const auto told = store.outcomes();
  check_in_order(told, id);
  // Still backlogged after the first batches, clear by the last.
  CHECK(told.front().backlogged);
  CHECK_FALSE(told.back().backlogged);
  for (std::size_t i = 1; i < told.size(); ++i) {
    CHECK((told[i - 1].backlogged || !told[i].backlogged));  // no flapping while draining
  }
  for (const commit_outcome& o : told) CHECK(o.stored);
  // Nothing dropped.
  CHECK(db.load("lobby", 0, 100'000) == sample_messages(1, id));
  CHECK(store.errors().empty());
}

TEST_CASE(
    "history_database: a write that fails is told as not stored, the gap is remembered, and "
    "the next write works",
    "[store]") {
  test_store store;
  {
    // Only flush() makes the writer write: one batch per flush.
    history_database db = store.open_reporting(holding_writer());
    for (const auto& m : sample_messages(1, 10)) db.append(m);
    db.flush();
    const auto chunks = store.chunks_file();

    // The chunk file may not grow: as a full disk, for this process alone.
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit before{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &before) == 0);
    rlimit capped = before;
    capped.rlim_cur = std::filesystem::file_size(chunks);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &capped) == 0);
    for (const auto& m : sample_messages(11, 15)) db.append(m);
    for (const auto& m : sample_messages(16, 17, "dev")) db.append(m);
    db.flush();
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &before) == 0);

    auto told = store.outcomes();
    REQUIRE(told.size() == 2);
    CHECK(told[0].stored);
    CHECK(told[0].through_id == 10);
    CHECK_FALSE(told[1].stored);
    CHECK(told[1].through_id == 17);
    CHECK_FALSE(db.available());
    REQUIRE(store.errors().size() == 1);

    // A client that saw up to 10 is told 11..15 may be missing.
    auto page = db.load_after("lobby", 10, 0, 100);
    CHECK(page.messages.empty());
    CHECK(page.lost_through == 15);
    CHECK(db.load_after("dev", 0, 0, 100).lost_through == 17);
    // Bounded by `through`, and none for a client past the loss.
    CHECK(db.load_after("lobby", 10, 12, 100).lost_through == 12);
    CHECK(db.load_after("lobby", 15, 0, 100).lost_through == 0);

    for (const auto& m : sample_messages(18, 20)) db.append(m);
    db.flush();
    told = store.outcomes();
    REQUIRE(told.size() == 3);
    CHECK(told[2].stored);
    CHECK(told[2].through_id == 20);
    CHECK(db.available());

    page = db.load_after("lobby", 5, 0, 100);
    CHECK(ids_of(page.messages) == id_list{6, 7, 8, 9, 10, 18, 19, 20});
    CHECK(page.lost_through == 15);
  }
  // The floors were stored with the batch that worked: the gap outlives a restart.
  history_database db = store.open();
  CHECK(db.load_after("lobby", 10, 0, 100).lost_through == 15);
  CHECK(db.load_after("dev", 16, 0, 100).lost_through == 17);
  CHECK(db.load_after("lobby", 15, 0, 100).lost_through == 0);
  CHECK(store.errors().size() == 2);
}

TEST_CASE("history_database: what was told stored survives kill -9", "[store]") {
  const auto mode = GENERATE(sync_mode::none, sync_mode::batch);
  test_store store;
  int told[2];
  REQUIRE(::pipe(told) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child appends for ever and says how far the store has settled.
    ::close(told[0]);
    history_database db(store.path(), {}, {.max_batch = 50, .sync = mode},
                        [&](const commit_outcome& o) {
                          if (!o.stored) ::_exit(3);
                          const auto through = o.through_id;
                          if (::write(told[1], &through, sizeof through) != sizeof through)
                            ::_exit(4);
                        });
    for (std::uint64_t id = 1;; ++id) {
      db.append(sample_message(id, id % 2 ? "lobby" : "dev"));
      if (id % 20 == 0) ::usleep(100);
    }
  }
  ::close(told[1]);
  std::uint64_t settled = 0;
  while (settled < 3'000) {
    std::uint64_t through = 0;
    REQUIRE(::read(told[0], &through, sizeof through) == sizeof through);
    CHECK(through > settled);
    settled = through;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  // Whatever the child reported after the last read is also stored.
  for (std::uint64_t through = 0; ::read(told[0], &through, sizeof through) == sizeof through;) {
    settled = through;
  }
  ::close(told[0]);

  history_database db = store.open();
  CHECK(db.last_id() >= settled);
  const auto lobby = db.load_after("lobby", 0, settled, 100'000);
  const auto dev = db.load_after("dev", 0, settled, 100'000);
  std::vector<stored_message> expected_lobby, expected_dev;
  for (std::uint64_t id = 1; id <= settled; ++id) {
    (id % 2 ? expected_lobby : expected_dev)
        .push_back(sample_message(id, id % 2 ? "lobby" : "dev"));
  }
  CHECK(lobby.messages == expected_lobby);
  CHECK(dev.messages == expected_dev);
  CHECK(lobby.lost_through == 0);
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: shutdown against a failing disk tells the rest as not stored",
          "[store]") {
  test_store store;
  std::optional<raw_database> other;
  {
    history_database db = store.open_reporting({.max_batch = 10, .busy_timeout = 50ms});
    other.emplace(db.path());
    other->execute("BEGIN IMMEDIATE");
    for (std::uint64_t id = 1; id <= 1'000; ++id) db.append(sample_message(id));
  }
  other->execute("COMMIT");
  const auto told = store.outcomes();
  check_in_order(told, 1'000);
  for (const commit_outcome& o : told) CHECK_FALSE(o.stored);
}
