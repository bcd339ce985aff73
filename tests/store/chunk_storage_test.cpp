// How history is laid out on disk: a room's messages packed into chunks, one
// per written batch. Paging must not see the seams, a file of the older
// row-per-message schema must come back whole, and a damaged chunk must be
// reported, not crash the reader.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "error_log.hpp"
#include "raw_database.hpp"
#include "sample_messages.hpp"
#include "store/detail/chunk.hpp"
#include "store/history_database.hpp"
#include "temp_dir.hpp"

namespace {

using chat::store::history_database;
using chat::store::history_options;
using chat::store::stored_message;
using chat::store::test::error_log;
using chat::store::test::ids_of;
using chat::store::test::raw_database;
using chat::store::test::sample_message;
using chat::store::test::sample_messages;
using chat::store::test::temp_dir;

using id_list = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("chunk: messages come back exactly as packed", "[store]") {
  std::vector<stored_message> messages = sample_messages(1, 5, "dev");
  messages[2].text = std::string("nul \0 inside and \xC3\xA9", 20);
  messages[3].text.clear();
  messages[4].id = UINT64_C(0x7FFF'FFFF'FFFF'FFF0);
  messages[4].ts_ms = -1;
  std::string chunk;
  for (const auto& m : messages) chat::store::detail::append_to_chunk(chunk, m);
  CHECK(chat::store::detail::unpack_chunk(chunk, "dev") == messages);
  CHECK(chat::store::detail::unpack_chunk("", "dev").empty());
}

TEST_CASE("chunk: a chunk cut anywhere is refused, never over-read", "[store]") {
  std::string chunk;
  for (const auto& m : sample_messages(1, 3)) chat::store::detail::append_to_chunk(chunk, m);
  const auto whole = chat::store::detail::unpack_chunk(chunk, "lobby");
  for (std::size_t size = 1; size < chunk.size(); ++size) {
    const std::string_view cut(chunk.data(), size);
    // A cut on a message boundary is a shorter chunk; anywhere else, an error.
    try {
      const auto part = chat::store::detail::unpack_chunk(cut, "lobby");
      REQUIRE(part.size() < whole.size());
      CHECK(std::equal(part.begin(), part.end(), whole.begin()));
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("cut short"));
    }
  }
}

TEST_CASE("history_database: pages cross the seams between chunks and rooms", "[store]") {
  temp_dir dir;
  error_log errors;
  history_options small_batches;
  small_batches.max_batch = 4;
  {
    history_database db(dir.path(), errors.handler(), small_batches);
    // Two rooms interleaved, written in batches of four: every chunk holds a
    // room's share of one batch, one or three messages.
    for (std::uint64_t id = 1; id <= 40; ++id) {
      db.append(sample_message(id, id % 4 == 0 ? "dev" : "lobby"));
    }
  }
  history_database db(dir.path(), errors.handler(), small_batches);
  id_list lobby;
  for (std::uint64_t id = 1; id <= 40; ++id) {
    if (id % 4 != 0) lobby.push_back(id);
  }
  CHECK(ids_of(db.load("lobby", 0, 100)) == lobby);
  // Each page of five ends just below the previous one, across seams.
  id_list paged;
  std::uint64_t before = 0;
  for (;;) {
    const auto page = ids_of(db.load("lobby", before, 5));
    if (page.empty()) break;
    paged.insert(paged.begin(), page.begin(), page.end());
    before = page.front();
  }
  CHECK(paged == lobby);
  CHECK(ids_of(db.load("dev", 30, 3)) == id_list{20, 24, 28});
  CHECK(db.last_id() == 40);
  CHECK(errors.lines().empty());
}

TEST_CASE("history_database: a file of the row-per-message schema is brought up to date",
          "[store]") {
  temp_dir dir;
  const auto file = dir.path() / "history.sqlite3";
  {
    raw_database old(file);
    old.execute(R"sql(
      CREATE TABLE messages(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, room TEXT NOT NULL,
                            sender TEXT NOT NULL, text TEXT NOT NULL);
      CREATE INDEX messages_by_room ON messages(room, id);
      PRAGMA user_version = 1;
    )sql");
    for (std::uint64_t id = 1; id <= 2'500; ++id) {
      const auto m = sample_message(id, id % 10 == 0 ? "dev" : "lobby");
      old.execute("INSERT INTO messages VALUES (" + std::to_string(m.id) + ", " +
                  std::to_string(m.ts_ms) + ", '" + m.room + "', '" + m.from + "', '" + m.text +
                  "')");
    }
    // An id-only row: a direct message's id, kept so ids never repeat.
    old.execute("INSERT INTO messages VALUES (2600, 0, '', '', '')");
  }
  error_log errors;
  history_database db(dir.path(), errors.handler());
  CHECK(db.last_id() == 2'600);
  std::vector<stored_message> lobby, dev;
  for (std::uint64_t id = 1; id <= 2'500; ++id) {
    (id % 10 == 0 ? dev : lobby).push_back(sample_message(id, id % 10 == 0 ? "dev" : "lobby"));
  }
  CHECK(db.load("lobby", 0, 10'000) == lobby);
  CHECK(db.load("dev", 0, 10'000) == dev);
  CHECK(ids_of(db.load("lobby", 1'001, 2)) == id_list{998, 999});
  CHECK(db.load("", 0, 10).empty());
  // New messages go on after the migrated ones.
  db.append(sample_message(2'601));
  db.flush();
  CHECK(ids_of(db.load("lobby", 0, 2)) == id_list{2'499, 2'601});
  CHECK(errors.lines().empty());
}

TEST_CASE("history_database: a damaged chunk is reported and the rest still served", "[store]") {
  temp_dir dir;
  {
    history_database db(dir.path());
    for (const auto& m : sample_messages(1, 3)) db.append(m);
  }
  raw_database(dir.path() / "history.sqlite3")
      .execute("UPDATE chunks SET data = substr(data, 1, length(data) - 1)");
  error_log errors;
  history_options holding;
  holding.batch_interval = std::chrono::hours(1);
  history_database db(dir.path(), errors.handler(), holding);
  db.append(sample_message(4));  // still queued: served from memory
  CHECK(ids_of(db.load("lobby", 0, 10)) == id_list{4});
  const auto lines = errors.lines();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("cut short"));
  CHECK_THAT(lines[0], Catch::Contains("lobby"));
}
