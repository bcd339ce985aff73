#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "raw_database.hpp"
#include "sample_messages.hpp"
#include "temp_dir.hpp"
#include "test_store.hpp"

using namespace chat::store;
using namespace chat::store::test;
using namespace std::string_literals;

namespace {

void append_all(history_database& db, const std::vector<stored_message>& messages) {
  for (const stored_message& m : messages) db.append(m);
}

}  // namespace

TEST_CASE("history_database: load pages back oldest first with before and limit", "[store]") {
  test_store store;
  history_database db = store.open();
  CHECK(db.path() == store.path() / "history.sqlite3");

  const auto messages = sample_messages(1, 10);
  append_all(db, messages);
  db.flush();

  CHECK(db.load("lobby", 0, 100) == messages);
  CHECK(ids_of(db.load("lobby", 0, 3)) == id_list{8, 9, 10});
  CHECK(ids_of(db.load("lobby", 8, 3)) == id_list{5, 6, 7});
  CHECK(ids_of(db.load("lobby", 5, 3)) == id_list{2, 3, 4});
  CHECK(ids_of(db.load("lobby", 2, 3)) == id_list{1});
  CHECK(db.load("lobby", 1, 3).empty());
  CHECK(db.load("lobby", 0, 0).empty());
  // A bound above everything stored is no bound.
  CHECK(ids_of(db.load("lobby", 1'000, 2)) == id_list{9, 10});
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: every field comes back as it was", "[store]") {
  test_store store;
  history_database db = store.open();
  const stored_message odd{
      .id = (std::uint64_t{1} << 62) + 3,
      .ts_ms = -5,
      .room = "r\xC3\xA9union-#1",
      .from =
          "Z\xC3\xBC"
          "rich.b0b",
      // The protocol forbids NUL in a message; the store still must not cut at one.
      .text = "quotes ' \" \\ tab\t nul\0 after, emoji \xF0\x9F\x98\x80"s,
  };
  const stored_message empty_text{.id = 1, .ts_ms = 0, .room = odd.room, .from = "x", .text = ""};
  db.append(empty_text);
  db.append(odd);
  db.flush();
  CHECK(db.load(odd.room, 0, 10) == std::vector<stored_message>{empty_text, odd});
  CHECK(db.last_id() == odd.id);
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: rooms do not see each other's messages", "[store]") {
  test_store store;
  history_database db = store.open();
  for (std::uint64_t id = 1; id <= 30; ++id) {
    db.append(sample_message(id, id % 3 == 0 ? "lobby" : id % 3 == 1 ? "rust" : "Lobby"));
  }
  db.flush();
  CHECK(ids_of(db.load("lobby", 0, 100)) == id_list{3, 6, 9, 12, 15, 18, 21, 24, 27, 30});
  // Room names are compared byte for byte: folding is the caller's business.
  CHECK(ids_of(db.load("Lobby", 0, 3)) == id_list{23, 26, 29});
  CHECK(ids_of(db.load("rust", 10, 2)) == id_list{4, 7});
  CHECK(db.load("lobb", 0, 100).empty());
  CHECK(db.load("", 0, 100).empty());
  for (const stored_message& m : db.load("rust", 0, 100)) CHECK(m.room == "rust");
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: load sees messages not yet written", "[store]") {
  test_store store;
  history_database db = store.open(holding_writer());
  append_all(db, sample_messages(1, 5));
  db.flush();
  append_all(db, sample_messages(6, 9));  // held in the queue

  CHECK(db.load("lobby", 0, 100) == sample_messages(1, 9));
  // A page that spans the disk and the queue.
  CHECK(ids_of(db.load("lobby", 0, 6)) == id_list{4, 5, 6, 7, 8, 9});
  CHECK(ids_of(db.load("lobby", 8, 4)) == id_list{4, 5, 6, 7});
  CHECK(db.last_id() == 9);
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: history and last_id survive reopening", "[store]") {
  test_store store;
  {
    history_database db = store.open();
    CHECK(db.last_id() == 0);
    append_all(db, sample_messages(1, 20, "lobby"));
    append_all(db, sample_messages(21, 25, "rust"));
    db.flush();
  }
  {
    history_database db = store.open();
    CHECK(db.last_id() == 25);
    CHECK(db.load("lobby", 0, 100) == sample_messages(1, 20, "lobby"));
    CHECK(db.load("rust", 0, 100) == sample_messages(21, 25, "rust"));
    append_all(db, sample_messages(26, 30, "lobby"));
  }
  history_database db = store.open();
  CHECK(db.last_id() == 30);
  CHECK(ids_of(db.load("lobby", 0, 7)) == id_list{19, 20, 26, 27, 28, 29, 30});
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: last_id is past every stored id, also when the sequence is behind",
          "[store][fuzz]") {
  // Found by fuzz/history_files_fuzz.cpp: an index whose sequence says 0 while its
  // chunks hold ids up to 20; the next id handed out was 1, a second message 1.
  test_store store;
  {
    history_database db = store.open();
    append_all(db, sample_messages(1, 20, "lobby"));
  }
  raw_database(store.path() / history_database::file_name)
      .execute("UPDATE sequence SET highest_id = 0");
  history_database db = store.open();
  CHECK(db.last_id() == 20);
}

TEST_CASE("history_database: the directory is created when missing", "[store]") {
  temp_dir dir;
  const auto nested = dir.path() / "data" / "chat";
  {
    history_database db(nested);
    db.append(sample_message(1));
  }
  CHECK(std::filesystem::is_regular_file(nested / "history.sqlite3"));
  history_database db(nested);
  CHECK(db.last_id() == 1);
}

TEST_CASE("history_database: the destructor writes everything appended", "[store]") {
  test_store store;
  {
    // The writer would hold these for a minute: only the destructor makes it write.
    history_database db = store.open(holding_writer());
    append_all(db, sample_messages(1, 2'500));
  }
  history_database db = store.open();
  CHECK(db.last_id() == 2'500);
  CHECK(db.load("lobby", 0, 10'000) == sample_messages(1, 2'500));
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: appends from several threads are all stored", "[store]") {
  test_store store;
  constexpr std::uint64_t threads = 4;
  constexpr std::uint64_t per_thread = 5'000;
  {
    history_database db = store.open();
    // Catch2 assertions are not thread-safe: threads count, the test checks.
    std::atomic<int> short_pages{0};
    std::vector<std::thread> appenders;
    for (std::uint64_t t = 0; t < threads; ++t) {
      appenders.emplace_back([&db, &short_pages, t] {
        const std::string room = "room" + std::to_string(t);
        for (std::uint64_t i = 1; i <= per_thread; ++i) {
          db.append(sample_message(t * per_thread + i, room));
          // Readers race the writer and the appenders too.
          if (i % 1'000 == 0 && db.load(room, 0, 10).size() != 10) ++short_pages;
        }
      });
    }
    for (std::thread& t : appenders) t.join();
    CHECK(short_pages == 0);
    db.flush();
    CHECK(db.last_id() == threads * per_thread);
    for (std::uint64_t t = 0; t < threads; ++t) {
      const std::string room = "room" + std::to_string(t);
      CHECK(db.load(room, 0, 100'000) ==
            sample_messages(t * per_thread + 1, (t + 1) * per_thread, room));
    }
  }
  CHECK(store.errors().empty());
}

TEST_CASE("history_database: flush with nothing appended returns at once", "[store]") {
  temp_dir dir;
  history_database db(dir.path(), {}, holding_writer());
  db.flush();
  db.flush();
  CHECK(db.load("lobby", 0, 10).empty());
}
