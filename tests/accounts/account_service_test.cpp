#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "accounts/account_service.hpp"
#include "data_dir.hpp"
#include "requests.hpp"

using namespace chat::accounts;
using namespace chat::accounts::test;
using namespace std::chrono_literals;
using chat::test::data_dir;

namespace {

// Each test's log: nothing should be in it unless the test says so.
struct log_lines {
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
  std::vector<std::string> taken() {
    std::lock_guard lock(mutex);
    return lines;
  }
  std::mutex mutex;
  std::vector<std::string> lines;
};

// Tests that send wrong passwords on purpose, and then right ones, would be
// throttled by their own mistakes: no delay at all for them.
options unthrottled(const data_dir& dir) {
  options o = cheap_options(dir);
  o.first_delay = 0s;
  o.max_delay = 0s;
  return o;
}

// One value from the accounts file, read as another program would.
std::string query_text(const data_dir& dir, const char* sql) {
  sqlite3* db = nullptr;
  const std::string file = (dir.path() / "accounts.sqlite3").string();
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    value = text ? reinterpret_cast<const char*>(text) : "";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

void execute(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("account_service: an account created logs in with its password only", "[accounts]") {
  data_dir dir;
  log_lines log;
  account_service s(unthrottled(dir), log.sink());
  CHECK_FALSE(s.is_registered("alice"));
  CHECK(create(s, "alice", "correct horse").what == status::ok);
  CHECK(s.is_registered("alice"));
  CHECK(log_in(s, "alice", "correct horse").what == status::ok);
  CHECK(log_in(s, "alice", "correct horsf").what == status::wrong_password);
  CHECK(log_in(s, "alice", "").what == status::wrong_password);
  CHECK(log_in(s, "bob", "correct horse").what == status::wrong_password);
  CHECK(log.taken().empty());
}

TEST_CASE("account_service: a name without an account answers as a wrong password does",
          "[accounts]") {
  data_dir dir;
  options o = cheap_options(dir);
  o.first_delay = 60s;
  account_service s(o, {});
  REQUIRE(create(s, "alice", "correct horse").what == status::ok);
  CHECK(log_in(s, "nobody", "correct horse", "192.0.2.1").what == status::wrong_password);
  CHECK(log_in(s, "alice", "wrong horse", "192.0.2.2").what == status::wrong_password);
  CHECK_FALSE(s.is_registered("nobody"));
  // Throttled alike too, from another address.
  const result nobody = log_in(s, "nobody", "correct horse", "192.0.2.3");
  const result alice = log_in(s, "alice", "correct horse", "192.0.2.4");
  CHECK(nobody.what == status::throttled);
  CHECK(alice.what == status::throttled);
  CHECK(nobody.retry_after == alice.retry_after);
}

TEST_CASE("account_service: names are matched without regard to case", "[accounts]") {
  data_dir dir;
  account_service s(unthrottled(dir), {});
  REQUIRE(create(s, "Alice", "correct horse").what == status::ok);
  CHECK(s.is_registered("alice"));
  CHECK(s.is_registered("ALICE"));
  CHECK(log_in(s, "ALICE", "correct horse").what == status::ok);
  CHECK(create(s, "aLiCe", "another horse").what == status::exists);
  // The spelling registered is the one kept.
  CHECK(query_text(dir, "SELECT key || ' ' || name FROM accounts") == "alice Alice");
}

TEST_CASE("account_service: create answers exists for a name taken", "[accounts]") {
  data_dir dir;
  account_service s(unthrottled(dir), {});
  REQUIRE(create(s, "alice", "correct horse").what == status::ok);
  CHECK(create(s, "alice", "correct horse").what == status::exists);
  // The first password still holds.
  CHECK(create(s, "alice", "other horse!").what == status::exists);
  CHECK(log_in(s, "alice", "correct horse").what == status::ok);
  CHECK(log_in(s, "alice", "other horse!").what == status::wrong_password);
}

TEST_CASE("account_service: a new password is min_password_bytes to max_password_bytes",
          "[accounts]") {
  data_dir dir;
  account_service s(unthrottled(dir), {});
  CHECK(create(s, "short", std::string(min_password_bytes - 1, 'x')).what == status::bad_password);
  CHECK(create(s, "empty", "").what == status::bad_password);
  CHECK(create(s, "long", std::string(max_password_bytes + 1, 'x')).what == status::bad_password);
  CHECK_FALSE(s.is_registered("short"));
  CHECK_FALSE(s.is_registered("long"));
  CHECK(create(s, "least", std::string(min_password_bytes, 'x')).what == status::ok);
  CHECK(create(s, "most", std::string(max_password_bytes, 'x')).what == status::ok);
  CHECK(log_in(s, "most", std::string(max_password_bytes, 'x')).what == status::ok);
  CHECK(log_in(s, "most", std::string(max_password_bytes + 1, 'x')).what == status::bad_password);
}

TEST_CASE("account_service: a password past the limit is answered without waiting for a hash",
          "[accounts]") {
  data_dir dir;
  answers a;
  options o = cheap_options(dir);
  o.cost = slow_cost;
  o.threads = 1;
  account_service s(o, {});
  const std::string huge(std::size_t{1} << 20, 'x');
  // The one thread verifies the first; the second waits behind it.
  s.log_in("nobody", "guess one", "198.51.100.1", a.next());
  s.log_in("nobody2", "guess two", "198.51.100.2", a.next());
  // Were any of these hashed, or queued behind the second, they would come
  // back after it.
  s.create("carol", huge, a.next());
  s.log_in("carol", huge, "198.51.100.3", a.next());
  s.change_password("carol", "old password", huge, "198.51.100.3", a.next());
  s.remove("carol", huge, "198.51.100.3", a.next());
  a.wait_all();
  CHECK(a.wait(0).value.what == status::wrong_password);
  const answered second = a.wait(1);
  CHECK(second.value.what == status::wrong_password);
  for (std::size_t i = 2; i < a.count(); ++i) {
    INFO("request " << i);
    CHECK(a.wait(i).value.what == status::bad_password);
    CHECK(a.wait(i).arrival < second.arrival);
  }
}

TEST_CASE("account_service: failures block the name for first_delay, then it logs in",
          "[accounts]") {
  data_dir dir;
  options o = cheap_options(dir);
  o.first_delay = 1s;
  account_service s(o, {});
  REQUIRE(create(s, "alice", "correct horse").what == status::ok);
  CHECK(log_in(s, "alice", "wrong horse", "192.0.2.1").what == status::wrong_password);
  // From another address too: the name is blocked.
  const result blocked = log_in(s, "alice", "correct horse", "192.0.2.2");
  CHECK(blocked.what == status::throttled);
  CHECK(blocked.retry_after == 1s);
  CHECK(change_password(s, "alice", "correct horse", "new password", "192.0.2.2").what ==
        status::throttled);
  CHECK(remove(s, "alice", "correct horse", "192.0.2.2").what == status::throttled);
  std::this_thread::sleep_for(blocked.retry_after);
  CHECK(log_in(s, "alice", "correct horse", "192.0.2.2").what == status::ok);
  // The success forgot the name's failure: the next one blocks for 1 s
  // again, not 2 (from a third address, which has no failures of its own).
  CHECK(log_in(s, "alice", "wrong horse", "192.0.2.3").what == status::wrong_password);
  CHECK(log_in(s, "alice", "correct horse", "192.0.2.4").retry_after == 1s);
}

TEST_CASE("account_service: failures block the address for every name", "[accounts]") {
  data_dir dir;
  options o = cheap_options(dir);
  o.first_delay = 60s;
  account_service s(o, {});
  REQUIRE(create(s, "alice", "correct horse").what == status::ok);
  REQUIRE(create(s, "bob", "battery staple").what == status::ok);
  CHECK(log_in(s, "alice", "wrong horse", "203.0.113.7").what == status::wrong_password);
  const result bob = log_in(s, "bob", "battery staple", "203.0.113.7");
  CHECK(bob.what == status::throttled);
  CHECK(bob.retry_after == 60s);
  // bob from elsewhere is not blocked: his name has no failures.
  CHECK(log_in(s, "bob", "battery staple", "203.0.113.8").what == status::ok);
  // A success does not unblock the address.
  CHECK(log_in(s, "carol", "anything", "203.0.113.7").what == status::throttled);
}

TEST_CASE("account_service: past max_queue waiting requests the answer is busy", "[accounts]") {
  data_dir dir;
  answers a;
  options o = cheap_options(dir);
  o.cost = slow_cost;
  o.threads = 1;
  o.max_queue = 1;
  account_service s(o, {});
  // One verifying and one waiting at most: two or three of the four find no
  // room (which, and how many, depends on when the thread takes the first
  // from the queue).
  for (int i = 0; i < 4; ++i) {
    s.log_in("user" + std::to_string(i), "password", "198.51.100." + std::to_string(i), a.next());
  }
  a.wait_all();
  CHECK(a.wait(0).value.what == status::wrong_password);
  std::size_t hashed = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    INFO("request " << i);
    const answered got = a.wait(i);
    if (got.value.what == status::wrong_password) {
      ++hashed;
      continue;
    }
    CHECK(got.value.what == status::busy);
    CHECK(got.value.retry_after == 1s);
    // At once, on the caller's thread: not after a hash.
    CHECK(got.thread == std::this_thread::get_id());
    CHECK(got.arrival < a.wait(0).arrival);
  }
  CHECK(hashed >= 1);
  CHECK(hashed <= 2);
}

TEST_CASE("account_service: a request no thread would start within max_wait is answered busy",
          "[accounts]") {
  data_dir dir;
  answers a;
  options o = cheap_options(dir);
  // Some 0.3 s a hash, against max_wait: far less than one hash takes, and
  // far more than a thread at nice 19 takes to wake on a loaded machine.
  // Once the pool knows how long a hash takes, a request that would wait
  // for one is refused.
  o.cost = slow_cost;
  o.cost.ops *= 3;
  o.threads = 2;
  o.max_wait = 100ms;
  account_service s(o, {});
  // Until a hash has been timed, every request is let in.
  CHECK(log_in(s, "nobody1", "guess one", "198.51.100.1").what == status::wrong_password);
  for (int i = 2; i <= 4; ++i) {
    s.log_in("nobody" + std::to_string(i), "guess", "198.51.100." + std::to_string(i), a.next());
  }
  a.wait_all();
  // A thread was free for the first, which is verified (the thread that
  // answered the warm-up may still count as busy for a moment)...
  CHECK(a.wait(0).value.what == status::wrong_password);
  // ...and the third would have waited half a hash's time at least, with
  // both threads busy.
  const answered refused = a.wait(2);
  CHECK(refused.value.what == status::busy);
  CHECK(refused.value.retry_after >= 1s);
  CHECK(refused.thread == std::this_thread::get_id());
  CHECK(refused.arrival < a.wait(0).arrival);
}

TEST_CASE("account_service: a request left waiting past max_wait is refused by the next one",
          "[accounts]") {
  data_dir dir;
  answers a;
  options o = cheap_options(dir);
  // Twelve times the default cost (a second or so): the first hash is
  // still running when the third request comes, on any machine.
  o.cost = slow_cost;
  o.cost.ops *= 12;
  o.threads = 1;
  o.max_wait = 200ms;
  account_service s(o, {});
  // No hash timed yet: both are let in, the second to wait for the first.
  s.log_in("nobody1", "guess one", "198.51.100.1", a.next());
  s.log_in("nobody2", "guess two", "198.51.100.2", a.next());
  std::this_thread::sleep_for(500ms);
  s.log_in("nobody3", "guess three", "198.51.100.3", a.next());
  a.wait_all();
  CHECK(a.wait(0).value.what == status::wrong_password);
  // The second waited past max_wait: refused when the third came, on its
  // thread, without waiting for the first's hash to end.
  for (std::size_t i = 1; i < 3; ++i) {
    INFO("request " << i);
    CHECK(a.wait(i).value.what == status::busy);
    CHECK(a.wait(i).thread == std::this_thread::get_id());
    CHECK(a.wait(i).arrival < a.wait(0).arrival);
  }
}

TEST_CASE("account_service: accounts are kept across a restart", "[accounts]") {
  data_dir dir;
  {
    account_service s(unthrottled(dir), {});
    REQUIRE(create(s, "Alice", "correct horse").what == status::ok);
    REQUIRE(create(s, "bob", "battery staple").what == status::ok);
    REQUIRE(create(s, "carol", "carol's pass").what == status::ok);
    REQUIRE(change_password(s, "bob", "battery staple", "new staple!").what == status::ok);
    REQUIRE(remove(s, "carol", "carol's pass").what == status::ok);
  }
  CHECK(query_text(dir, "PRAGMA user_version") == "2");
  CHECK(query_text(dir, "PRAGMA journal_mode") == "wal");
  CHECK(query_text(dir, "SELECT hash FROM accounts WHERE key = 'alice'").starts_with("$argon2id$"));
  account_service s(unthrottled(dir), {});
  CHECK(s.is_registered("alice"));
  CHECK(log_in(s, "alice", "correct horse").what == status::ok);
  CHECK(log_in(s, "bob", "new staple!").what == status::ok);
  CHECK(log_in(s, "bob", "battery staple").what == status::wrong_password);
  CHECK_FALSE(s.is_registered("carol"));
  CHECK(create(s, "alice", "correct horse").what == status::exists);
}

TEST_CASE("account_service: moderation is kept across a restart, in order", "[accounts]") {
  using chat::accounts::moderation_change;
  using kind = chat::accounts::moderation_record::kind;
  data_dir dir;
  {
    account_service s(unthrottled(dir), {});
    CHECK(s.load_moderation().empty());
    s.save_moderation({{kind::room_op, "dev", "alice", {}, {}, 0}, true});
    s.save_moderation({{kind::ban, "dev", "bob", "alice", "spam", 1234}, true});
    s.save_moderation({{kind::ban, "", "10.0.0.0/8", "root", "", 0}, true});
    s.save_moderation({{kind::mute, "dev", "carol", "alice", "", 0}, true});
    s.save_moderation({{kind::private_room, "dev", {}, {}, {}, 0}, true});
    s.save_moderation({{kind::invite, "dev", "erin", {}, {}, 0}, true});
    // Later changes win over earlier ones: they are written in order.
    s.save_moderation({{kind::mute, "dev", "carol", {}, {}, 0}, false});
    s.save_moderation({{kind::ban, "dev", "bob", "dave", "again", 99}, true});
    // The destructor writes whatever is still queued.
  }
  account_service s(unthrottled(dir), {});
  const auto records = s.load_moderation();
  REQUIRE(records.size() == 5);
  const auto count = [&](kind what) {
    return std::count_if(records.begin(), records.end(),
                         [&](const auto& r) { return r.what == what; });
  };
  CHECK(count(kind::room_op) == 1);
  CHECK(count(kind::ban) == 2);
  CHECK(count(kind::mute) == 0);
  CHECK(count(kind::private_room) == 1);
  CHECK(count(kind::invite) == 1);
  for (const auto& r : records) {
    if (r.what == kind::ban && r.room == "dev") {
      CHECK(r.target == "bob");
      CHECK(r.by == "dave");
      CHECK(r.reason == "again");
      CHECK(r.until_ms == 99);
    }
  }
}

TEST_CASE("account_service: a file of schema 1 gets the moderation tables", "[accounts]") {
  data_dir dir;
  execute(dir.path() / "accounts.sqlite3",
          "CREATE TABLE accounts (key TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL,"
          " created_ms INTEGER NOT NULL); PRAGMA user_version = 1;");
  account_service s(unthrottled(dir), {});
  CHECK(s.load_moderation().empty());
  CHECK(query_text(dir, "PRAGMA user_version") == "2");
}

TEST_CASE("account_service: change_password needs the current password", "[accounts]") {
  data_dir dir;
  account_service s(unthrottled(dir), {});
  REQUIRE(create(s, "alice", "first password").what == status::ok);
  CHECK(change_password(s, "alice", "wrong password", "second password").what ==
        status::wrong_password);
  CHECK(change_password(s, "alice", "first password", "short").what == status::bad_password);
  CHECK(log_in(s, "alice", "first password").what == status::ok);
  CHECK(change_password(s, "ALICE", "first password", "second password").what == status::ok);
  CHECK(log_in(s, "alice", "first password").what == status::wrong_password);
  CHECK(log_in(s, "alice", "second password").what == status::ok);
  CHECK(change_password(s, "bob", "first password", "second password").what == status::no_account);
}

TEST_CASE("account_service: remove needs the password, and frees the name", "[accounts]") {
  data_dir dir;
  account_service s(unthrottled(dir), {});
  REQUIRE(create(s, "alice", "first password").what == status::ok);
  CHECK(remove(s, "alice", "wrong password").what == status::wrong_password);
  CHECK(s.is_registered("alice"));
  CHECK(remove(s, "Alice", "first password").what == status::ok);
  CHECK_FALSE(s.is_registered("alice"));
  CHECK(log_in(s, "alice", "first password").what == status::wrong_password);
  CHECK(remove(s, "alice", "first password").what == status::no_account);
  CHECK(query_text(dir, "SELECT count(*) FROM accounts") == "0");
  CHECK(create(s, "alice", "second password").what == status::ok);
  CHECK(log_in(s, "alice", "second password").what == status::ok);
}

TEST_CASE("account_service: destroyed with requests queued, it drops their handlers uncalled",
          "[accounts]") {
  data_dir dir;
  std::atomic<int> calls{0};
  const auto token = std::make_shared<int>(0);
  {
    options o = cheap_options(dir);
    o.cost = slow_cost;
    o.threads = 1;
    account_service s(o, {});
    for (int i = 0; i < 5; ++i) {
      s.log_in("user" + std::to_string(i), "password", "198.51.100." + std::to_string(i),
               [&calls, token](result) { ++calls; });
    }
    CHECK(token.use_count() > 1);
  }
  // One thread: at most the request it was verifying is answered.
  CHECK(calls <= 1);
  // Every other handler was destroyed, none leaked.
  CHECK(token.use_count() == 1);
}

TEST_CASE("account_service: a directory it cannot use is refused with the file's name",
          "[accounts]") {
  data_dir dir;
  std::ofstream(dir.path() / "not-a-directory") << "x";
  options o = cheap_options(dir);
  o.dir = dir.path() / "not-a-directory";
  CHECK_THROWS_WITH(account_service(o, {}), Catch::Contains("accounts.sqlite3"));
}

TEST_CASE("account_service: a file of a newer schema is refused", "[accounts]") {
  data_dir dir;
  { account_service s(cheap_options(dir), {}); }
  execute(dir.path() / "accounts.sqlite3", "PRAGMA user_version = 99");
  CHECK_THROWS_WITH(account_service(cheap_options(dir), {}),
                    Catch::Contains("accounts.sqlite3") && Catch::Contains("schema version 99"));
}

TEST_CASE("account_service: a file that is not a database is refused", "[accounts]") {
  data_dir dir;
  std::ofstream(dir.path() / "accounts.sqlite3") << std::string(4096, 'x');
  CHECK_THROWS_WITH(account_service(cheap_options(dir), {}), Catch::Contains("accounts.sqlite3"));
}

TEST_CASE("account_service: a cost argon2id refuses is refused at start", "[accounts]") {
  data_dir dir;
  options o = cheap_options(dir);
  o.cost.memory = crypto_pwhash_MEMLIMIT_MIN - 1;
  CHECK_THROWS_AS(account_service(o, {}), std::runtime_error);
}
