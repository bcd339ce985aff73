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

#include "error_log.hpp"
#include "outcome_log.hpp"
#include "raw_database.hpp"
#include "sample_messages.hpp"
#include "store/history_database.hpp"
#include "temp_dir.hpp"

namespace {

using chat::store::commit_outcome;
using chat::store::history_database;
using chat::store::history_options;
using chat::store::stored_message;
using chat::store::sync_mode;
using chat::store::test::error_log;
using chat::store::test::ids_of;
using chat::store::test::outcome_log;
using chat::store::test::raw_database;
using chat::store::test::sample_message;
using chat::store::test::sample_messages;
using chat::store::test::temp_dir;
using namespace std::chrono_literals;

using id_list = std::vector<std::uint64_t>;

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
  temp_dir dir;
  error_log errors;
  outcome_log outcomes;
  history_options options;
  options.max_batch = 64;
  options.sync = mode;
  history_database db(dir.path(), errors.handler(), options, outcomes.handler());
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
  const auto told = outcomes.outcomes();
  check_in_order(told, 1'001);
  for (const commit_outcome& o : told) {
    CHECK(o.stored);
    CHECK_FALSE(o.backlogged);
  }
  // Batches of max_batch, not one per message (nor one in all).
  CHECK(told.size() >= 1'001 / 64);
  CHECK(db.load("lobby", 0, 10'000) == lobby);
  CHECK(db.available());
  CHECK(errors.lines().empty());
}

TEST_CASE("history_database: backlogged past the bound, never dropping, clear below half",
          "[store]") {
  temp_dir dir;
  error_log errors;
  outcome_log outcomes;
  history_options options;
  options.max_backlog_bytes = 8'192;
  options.max_batch = 20;
  history_database db(dir.path(), errors.handler(), options, outcomes.handler());
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

  const auto told = outcomes.outcomes();
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
  CHECK(errors.lines().empty());
}

TEST_CASE(
    "history_database: a write that fails is told as not stored, the gap is remembered, and "
    "the next write works",
    "[store]") {
  temp_dir dir;
  error_log errors;
  outcome_log outcomes;
  {
    // Only flush() makes the writer write: one batch per flush.
    history_options holding;
    holding.batch_interval = 60s;
    history_database db(dir.path(), errors.handler(), holding, outcomes.handler());
    for (const auto& m : sample_messages(1, 10)) db.append(m);
    db.flush();
    const auto chunks = dir.path() / history_database::chunks_file_name;

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

    auto told = outcomes.outcomes();
    REQUIRE(told.size() == 2);
    CHECK(told[0].stored);
    CHECK(told[0].through_id == 10);
    CHECK_FALSE(told[1].stored);
    CHECK(told[1].through_id == 17);
    CHECK_FALSE(db.available());
    REQUIRE(errors.lines().size() == 1);

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
    told = outcomes.outcomes();
    REQUIRE(told.size() == 3);
    CHECK(told[2].stored);
    CHECK(told[2].through_id == 20);
    CHECK(db.available());

    page = db.load_after("lobby", 5, 0, 100);
    CHECK(ids_of(page.messages) == id_list{6, 7, 8, 9, 10, 18, 19, 20});
    CHECK(page.lost_through == 15);
  }
  // The floors were stored with the batch that worked: the gap outlives a restart.
  history_database db(dir.path(), errors.handler());
  CHECK(db.load_after("lobby", 10, 0, 100).lost_through == 15);
  CHECK(db.load_after("dev", 16, 0, 100).lost_through == 17);
  CHECK(db.load_after("lobby", 15, 0, 100).lost_through == 0);
  CHECK(errors.lines().size() == 2);
}

TEST_CASE("history_database: what was told stored survives kill -9", "[store]") {
  const auto mode = GENERATE(sync_mode::none, sync_mode::batch);
  temp_dir dir;
  int told[2];
  REQUIRE(::pipe(told) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child appends for ever and says how far the store has settled.
    ::close(told[0]);
    history_options options;
    options.sync = mode;
    options.max_batch = 50;
    history_database db(dir.path(), {}, options, [&](const commit_outcome& o) {
      if (!o.stored) ::_exit(3);
      const auto through = o.through_id;
      if (::write(told[1], &through, sizeof through) != sizeof through) ::_exit(4);
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

  error_log errors;
  history_database db(dir.path(), errors.handler());
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
  CHECK(errors.lines().empty());
}

TEST_CASE("history_database: shutdown against a failing disk tells the rest as not stored",
          "[store]") {
  temp_dir dir;
  error_log errors;
  outcome_log outcomes;
  history_options options;
  options.busy_timeout = 50ms;
  options.max_batch = 10;
  std::optional<raw_database> other;
  {
    history_database db(dir.path(), errors.handler(), options, outcomes.handler());
    other.emplace(db.path());
    other->execute("BEGIN IMMEDIATE");
    for (std::uint64_t id = 1; id <= 1'000; ++id) db.append(sample_message(id));
  }
  other->execute("COMMIT");
  const auto told = outcomes.outcomes();
  check_in_order(told, 1'000);
  for (const commit_outcome& o : told) CHECK_FALSE(o.stored);
}
