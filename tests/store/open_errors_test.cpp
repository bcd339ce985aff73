#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "raw_database.hpp"
#include "sample_messages.hpp"
#include "store/history_database.hpp"
#include "temp_dir.hpp"

// What the operator sees when the data directory is unusable: a store_error
// at start that names the path and the problem, never a crash later.

using namespace chat::store;
using namespace chat::store::test;

namespace {

void write_file(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  return bytes;
}

// The message store_error carries when opening `dir` fails; fails the test
// when it opens.
std::string open_failure(const std::filesystem::path& dir) {
  try {
    history_database db(dir);
  } catch (const store_error& e) {
    return e.what();
  }
  FAIL("opening " << dir << " succeeded");
  return {};
}

}  // namespace

// Tests run as root, where permissions do not stop anything: a path through
// a regular file cannot be created by anyone.
TEST_CASE("history_database: a directory that cannot be created is refused", "[store]") {
  temp_dir dir;
  write_file(dir.path() / "plain-file", "x");
  const auto bad = dir.path() / "plain-file" / "data";
  const std::string message = open_failure(bad);
  CHECK_THAT(message, Catch::Contains(bad.string()));
  CHECK_THAT(message, Catch::Contains("cannot create history directory"));
}

TEST_CASE("history_database: a regular file given as the directory is refused", "[store]") {
  temp_dir dir;
  const auto file = dir.path() / "plain-file";
  write_file(file, "x");
  const std::string message = open_failure(file);
  CHECK_THAT(message, Catch::Contains(file.string()));
  CHECK(read_file(file) == "x");
}

TEST_CASE("history_database: a history file that is a directory is refused", "[store]") {
  temp_dir dir;
  std::filesystem::create_directory(dir.path() / "history.sqlite3");
  const std::string message = open_failure(dir.path());
  CHECK_THAT(message, Catch::Contains((dir.path() / "history.sqlite3").string()));
}

TEST_CASE("history_database: a chunk file that is a directory is refused", "[store]") {
  temp_dir dir;
  const auto chunks = dir.path() / history_database::chunks_file_name;
  std::filesystem::create_directory(chunks);
  const std::string message = open_failure(dir.path());
  CHECK_THAT(message, Catch::Contains(chunks.string()));
}

TEST_CASE("history_database: a directory another store has open is refused", "[store]") {
  temp_dir dir;
  history_database first(dir.path());
  const std::string message = open_failure(dir.path());
  CHECK_THAT(message, Catch::Contains("in use by another process"));
  CHECK_THAT(message, Catch::Contains(history_database::chunks_file_name.data()));
}

TEST_CASE("history_database: messages without their index are refused, not thrown away",
          "[store]") {
  temp_dir dir;
  {
    history_database db(dir.path());
    for (const auto& m : sample_messages(1, 3)) db.append(m);
  }
  const auto chunks = dir.path() / history_database::chunks_file_name;
  const auto kept = std::filesystem::file_size(chunks);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(dir.path() / (std::string("history.sqlite3") + suffix));
  }
  const std::string message = open_failure(dir.path());
  CHECK_THAT(message, Catch::Contains("does not index them"));
  CHECK_THAT(message, Catch::Contains(chunks.string()));
  CHECK(std::filesystem::file_size(chunks) == kept);
}

TEST_CASE("history_database: a file that is not a database is refused and left alone", "[store]") {
  temp_dir dir;
  const auto file = dir.path() / "history.sqlite3";
  const std::string garbage = random_bytes(8192, 1);
  write_file(file, garbage);
  const std::string message = open_failure(dir.path());
  CHECK_THAT(message, Catch::Contains(file.string()));
  CHECK_THAT(message, Catch::Contains("not a SQLite database"));
  CHECK(read_file(file) == garbage);
}

TEST_CASE("history_database: a corrupt database is refused at open", "[store]") {
  temp_dir dir;
  const auto file = dir.path() / "history.sqlite3";
  {
    history_database db(dir.path());
    // A room each: a chunk each, so that the index spans many pages.
    for (std::uint64_t id = 1; id <= 3'000; ++id) {
      db.append(sample_message(id, "room" + std::to_string(id)));
    }
  }
  // Keep the header page, so SQLite takes it for a database, and scramble
  // the middle of the file where the table and index pages are.
  std::string bytes = read_file(file);
  REQUIRE(bytes.size() > 16 * 4096);
  const std::string garbage = random_bytes(bytes.size() / 2, 2);
  bytes.replace(4096, garbage.size(), garbage);
  write_file(file, bytes);

  const std::string message = open_failure(dir.path());
  CHECK_THAT(message, Catch::Contains(file.string()));
  CHECK_THAT(message, Catch::Contains("corrupt"));
}

TEST_CASE("history_database: a database from a newer version is refused", "[store]") {
  temp_dir dir;
  { history_database db(dir.path()); }
  raw_database(dir.path() / "history.sqlite3").execute("PRAGMA user_version = 99");
  const std::string message = open_failure(dir.path());
  CHECK_THAT(message, Catch::Contains((dir.path() / "history.sqlite3").string()));
  CHECK_THAT(message, Catch::Contains("newer"));
}

TEST_CASE("history_database: a database with someone else's messages table is refused", "[store]") {
  temp_dir dir;
  raw_database(dir.path() / "history.sqlite3").execute("CREATE TABLE messages(body BLOB)");
  const std::string message = open_failure(dir.path());
  CHECK_THAT(message, Catch::Contains((dir.path() / "history.sqlite3").string()));
}

TEST_CASE("history_database: an empty history file is a new database", "[store]") {
  temp_dir dir;
  write_file(dir.path() / "history.sqlite3", "");
  history_database db(dir.path());
  CHECK(db.last_id() == 0);
  db.append(chat::store::test::sample_message(1));
  db.flush();
  CHECK(db.load("lobby", 0, 10).size() == 1);
}
