// How history is laid out on disk: a room's messages packed into chunks, one
// per written batch, in a file of their own that a SQLite index points into.
// Paging must not see the seams, files of the older schemas must come back
// whole, the two files must agree again after a crash, and a damaged chunk
// must be reported, not crash the reader.

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "raw_database.hpp"
#include "sample_messages.hpp"
#include "store/detail/chunk.hpp"
#include "test_store.hpp"

using namespace chat::store;
using namespace chat::store::test;

namespace {

std::string as_sql_blob(const std::string& bytes) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string literal = "X'";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    literal += digits[byte >> 4];
    literal += digits[byte & 0xF];
  }
  literal += '\'';
  return literal;
}

// Stores messages 1 to 3 of the lobby (one chunk), closes the store, then
// runs `sql` on its index, as damage or a careless hand would.
void store_then_edit_index(const test_store& store, const std::string& sql) {
  {
    history_database db(store.path());
    for (const auto& m : sample_messages(1, 3)) db.append(m);
  }
  raw_database(store.path() / "history.sqlite3").execute(sql);
}

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
  test_store store;
  const history_options small_batches{.max_batch = 4};
  {
    history_database db = store.open(small_batches);
    // Two rooms interleaved, written in batches of four: every chunk holds a
    // room's share of one batch, one or three messages.
    for (std::uint64_t id = 1; id <= 40; ++id) {
      db.append(sample_message(id, id % 4 == 0 ? "dev" : "lobby"));
    }
  }
  history_database db = store.open(small_batches);
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
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: a file of the row-per-message schema is brought up to date",
          "[store]") {
  test_store store;
  const auto file = store.path() / "history.sqlite3";
  {
    raw_database old(file);
    old.execute(R"sql(
      CREATE TABLE messages(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, room TEXT NOT NULL,
                            sender TEXT NOT NULL, text TEXT NOT NULL);
      CREATE INDEX messages_by_room ON messages(room, id);
      PRAGMA user_version = 1;
    )sql");
    // One transaction: 2500 synced commits would take most of a minute.
    old.execute("BEGIN");
    for (std::uint64_t id = 1; id <= 2'500; ++id) {
      const auto m = sample_message(id, id % 10 == 0 ? "dev" : "lobby");
      old.execute("INSERT INTO messages VALUES (" + std::to_string(m.id) + ", " +
                  std::to_string(m.ts_ms) + ", '" + m.room + "', '" + m.from + "', '" + m.text +
                  "')");
    }
    old.execute("COMMIT");
    // An id-only row: a direct message's id, kept so ids never repeat.
    old.execute("INSERT INTO messages VALUES (2600, 0, '', '', '')");
  }
  history_database db = store.open();
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
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: a damaged chunk is reported and the rest still served", "[store]") {
  test_store store;
  store_then_edit_index(store, "UPDATE chunks SET size = size - 1");
  history_database db = store.open(holding_writer());
  db.append(sample_message(4));  // still queued: served from memory
  CHECK(ids_of(db.load("lobby", 0, 10)) == id_list{4});
  const auto lines = store.errors();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("cut short"));
  CHECK_THAT(lines[0], Catch::Contains("lobby"));
}

TEST_CASE("history_database: a file of the chunk-in-a-row schema is brought up to date",
          "[store]") {
  test_store store;
  // Garbage in the chunk file: the old schema did not use it.
  std::ofstream(store.chunks_file(), std::ios::binary) << std::string(10'000, 'x');
  {
    raw_database old(store.path() / "history.sqlite3");
    old.execute(R"sql(
      CREATE TABLE chunks(room TEXT NOT NULL, first_id INTEGER NOT NULL,
                          last_id INTEGER NOT NULL, data BLOB NOT NULL);
      CREATE UNIQUE INDEX chunks_by_room ON chunks(room, first_id);
      CREATE TABLE sequence(highest_id INTEGER NOT NULL);
      INSERT INTO sequence VALUES (90);
      PRAGMA user_version = 2;
    )sql");
    for (std::uint64_t first = 1; first <= 71; first += 10) {
      const std::string room = first % 20 == 1 ? "lobby" : "dev";
      std::string chunk;
      for (const auto& m : sample_messages(first, first + 9, room)) {
        chat::store::detail::append_to_chunk(chunk, m);
      }
      old.execute("INSERT INTO chunks VALUES ('" + room + "', " + std::to_string(first) + ", " +
                  std::to_string(first + 9) + ", " + as_sql_blob(chunk) + ")");
    }
  }
  {
    history_database db = store.open();
    CHECK(db.last_id() == 90);
    std::vector<stored_message> lobby, dev;
    for (std::uint64_t first = 1; first <= 71; first += 10) {
      const std::string room = first % 20 == 1 ? "lobby" : "dev";
      const auto ten = sample_messages(first, first + 9, room);
      (room == "lobby" ? lobby : dev)
          .insert((room == "lobby" ? lobby : dev).end(), ten.begin(), ten.end());
    }
    CHECK(db.load("lobby", 0, 100) == lobby);
    CHECK(db.load("dev", 0, 100) == dev);
    db.append(sample_message(91));
  }
  history_database db = store.open();
  CHECK(ids_of(db.load("lobby", 0, 2)) == id_list{70, 91});
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: chunks lost to a crash are forgotten and reported", "[store]") {
  test_store store;
  std::uintmax_t first_chunk_end = 0;
  {
    // Messages 6 to 12 go out as one batch, when the store closes.
    history_database db(store.path(), {}, holding_writer());
    for (const auto& m : sample_messages(1, 5)) db.append(m);
    db.flush();
    first_chunk_end = std::filesystem::file_size(store.chunks_file());
    for (const auto& m : sample_messages(6, 10)) db.append(m);
    for (const auto& m : sample_messages(11, 12, "dev")) db.append(m);
  }
  // As after a power cut: the index was saved, the last bytes of the chunk file were not.
  std::filesystem::resize_file(store.chunks_file(), first_chunk_end + 1);
  {
    history_database db = store.open();
    const auto lines = store.errors();
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Catch::StartsWith("2 chunks"));
    CHECK_THAT(lines[0], Catch::Contains(store.chunks_file().string()));
    CHECK(db.load("lobby", 0, 100) == sample_messages(1, 5));
    CHECK(db.load("dev", 0, 100).empty());
    // Ids lost with their chunks are never handed out again.
    CHECK(db.last_id() == 12);
    db.append(sample_message(13));
  }
  history_database db = store.open();
  CHECK(ids_of(db.load("lobby", 0, 100)) == id_list{1, 2, 3, 4, 5, 13});
  CHECK(store.errors().size() == 1);
}

TEST_CASE("history_database: bytes a crash left past the last chunk are cut off", "[store]") {
  test_store store;
  {
    history_database db(store.path());
    for (const auto& m : sample_messages(1, 5)) db.append(m);
  }
  const auto written = std::filesystem::file_size(store.chunks_file());
  // As when the server stopped between writing a batch and indexing it.
  std::ofstream(store.chunks_file(), std::ios::binary | std::ios::app) << std::string(500, 'x');
  {
    history_database db = store.open();
    CHECK(std::filesystem::file_size(store.chunks_file()) == written);
    db.append(sample_message(6));
  }
  history_database db = store.open();
  CHECK(db.load("lobby", 0, 100) == sample_messages(1, 6));
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: chunk bytes that are not what the index names are reported",
          "[store]") {
  test_store store;
  store_then_edit_index(store, "UPDATE chunks SET first_id = 2");
  history_database db = store.open();
  CHECK(db.load("lobby", 0, 10).empty());
  const auto lines = store.errors();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("does not hold the messages its index names"));
}

TEST_CASE("history_database: a damaged chunk does not hide the older ones", "[store]") {
  test_store store;
  std::uintmax_t first_chunk_end = 0;
  {
    history_database db(store.path());
    for (const auto& m : sample_messages(1, 5)) db.append(m);
    db.flush();
    first_chunk_end = std::filesystem::file_size(store.chunks_file());
    for (const auto& m : sample_messages(6, 10)) db.append(m);
  }
  // As when a crash left the newest chunk's bytes zeroed: they parse, wrongly.
  {
    const auto size = std::filesystem::file_size(store.chunks_file());
    std::fstream file(store.chunks_file(), std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(first_chunk_end));
    file << std::string(size - first_chunk_end, '\0');
  }
  history_database db = store.open();
  CHECK(db.load("lobby", 0, 100) == sample_messages(1, 5));
  const auto lines = store.errors();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("messages 6 to 10 of room 'lobby' are skipped"));
}

TEST_CASE("history_database: a chunk placed outside the file is forgotten at open", "[store]") {
  test_store store;
  store_then_edit_index(store, "UPDATE chunks SET position = -5");
  {
    history_database db = store.open();
    CHECK(db.load("lobby", 0, 100).empty());
    db.append(sample_message(4));
  }
  history_database db = store.open();
  CHECK(db.load("lobby", 0, 100) == sample_messages(4, 4));
  const auto lines = store.errors();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::StartsWith("1 chunks"));
}
