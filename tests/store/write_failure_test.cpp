#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>

#include <sys/resource.h>

#include "error_log.hpp"
#include "raw_database.hpp"
#include "sample_messages.hpp"
#include "store/history_database.hpp"
#include "temp_dir.hpp"

// The writer meets a disk that says no: an index another connection has
// locked, as when a backup tool or a second process holds it (a busy writer,
// and past the busy timeout a failing one), and a chunk file that cannot grow.
namespace {

using chat::store::history_database;
using chat::store::history_options;
using chat::store::test::error_log;
using chat::store::test::ids_of;
using chat::store::test::raw_database;
using chat::store::test::sample_message;
using chat::store::test::sample_messages;
using chat::store::test::temp_dir;
using namespace std::chrono_literals;

}  // namespace

TEST_CASE("history_database: append does not wait for a writer stuck on the disk", "[store]") {
  temp_dir dir;
  error_log errors;
  constexpr std::uint64_t count = 100'000;
  history_database db(dir.path(), errors.handler());
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
  CHECK(errors.lines().empty());
}

TEST_CASE("history_database: a failing write is reported and the store carries on", "[store]") {
  temp_dir dir;
  error_log errors;
  history_options options;
  options.busy_timeout = 50ms;
  // Only flush() makes the writer write: one batch per flush, as counted below.
  options.batch_interval = 60s;
  history_database db(dir.path(), errors.handler(), options);
  std::optional<raw_database> other(db.path());
  other->execute("BEGIN IMMEDIATE");

  for (std::uint64_t id = 1; id <= 5; ++id) db.append(sample_message(id));
  db.flush();  // returns although the write failed
  auto lines = errors.lines();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("cannot save 5 messages"));
  CHECK_THAT(lines[0], Catch::Contains(db.path().string()));
  CHECK_THAT(lines[0], Catch::Contains("locked"));

  // Still failing: no new report for every batch.
  for (std::uint64_t id = 6; id <= 7; ++id) db.append(sample_message(id));
  db.flush();
  CHECK(errors.lines().size() == 1);

  other->execute("COMMIT");
  other.reset();
  for (std::uint64_t id = 8; id <= 10; ++id) db.append(sample_message(id));
  db.flush();
  lines = errors.lines();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1], Catch::Contains("work again"));
  CHECK_THAT(lines[1], Catch::Contains("7 messages were not saved"));
  // The failed batches are gone from disk (the server still has them in
  // memory); everything after the recovery is there.
  CHECK(db.load("lobby", 0, 100) == sample_messages(8, 10));
  CHECK(db.last_id() == 10);
}

TEST_CASE("history_database: shutdown gives up on a failing disk instead of hanging", "[store]") {
  temp_dir dir;
  error_log errors;
  history_options options;
  options.busy_timeout = 50ms;
  options.max_batch = 10;
  std::optional<raw_database> other;
  {
    history_database db(dir.path(), errors.handler(), options);
    other.emplace(db.path());
    other->execute("BEGIN IMMEDIATE");
    // A thousand batches at 50 ms each would hold the destructor for almost a minute.
    for (std::uint64_t id = 1; id <= 10'000; ++id) db.append(sample_message(id));
  }
  other->execute("COMMIT");
  other.reset();

  const auto lines = errors.lines();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::Contains("cannot save"));
  CHECK_THAT(lines[1], Catch::Contains("at shutdown"));
  history_database db(dir.path(), errors.handler());
  CHECK(db.load("lobby", 0, 100).empty());
  // The ids were handed out (and their messages delivered) though never
  // stored: the next server starts past them, as after a crash.
  CHECK(db.last_id() > 10'000);
}

TEST_CASE(
    "history_database: a chunk file that cannot grow is reported, and the next batch "
    "takes the failed one's place",
    "[store]") {
  temp_dir dir;
  error_log errors;
  // Only flush() makes the writer write: one batch per flush, as counted below.
  history_options holding;
  holding.batch_interval = 60s;
  history_database db(dir.path(), errors.handler(), holding);
  for (std::uint64_t id = 1; id <= 5'000; ++id) db.append(sample_message(id));
  db.flush();
  const auto chunks = dir.path() / history_database::chunks_file_name;
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

  auto lines = errors.lines();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("cannot save 10 messages"));
  CHECK_THAT(lines[0], Catch::Contains(chunks.string()));
  CHECK(std::filesystem::file_size(chunks) <= written);

  for (std::uint64_t id = 5'011; id <= 5'020; ++id) db.append(sample_message(id));
  db.flush();
  lines = errors.lines();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1], Catch::Contains("work again"));
  // The failed batch is lost from disk (the server still has it in memory);
  // the one after it is whole, where the failed one would have gone.
  CHECK(ids_of(db.load("lobby", 5'010, 100)).back() == 5'000);
  CHECK(db.load("lobby", 0, 10) == sample_messages(5'011, 5'020));
}
