#include "accounts/detail/account_table.hpp"

#include <stdexcept>

namespace chat::accounts::detail {

namespace {

using sqlite::connection;
using sqlite::reset_on_exit;
using sqlite::statement;

// Kept in PRAGMA user_version; raised by every change to the tables, each
// step below bringing a file of the version before it up to date.
// 1: accounts. (Operators and bans will be 2 and on.)
constexpr std::int64_t schema_version = 1;

constexpr const char* create_version_1 =
    "CREATE TABLE accounts ("
    " key TEXT PRIMARY KEY," /* the folded name */
    " name TEXT NOT NULL,"   /* as registered */
    " hash TEXT NOT NULL,"   /* crypto_pwhash_str */
    " created_ms INTEGER NOT NULL)";

std::string quoted(const std::filesystem::path& file) { return "'" + file.string() + "'"; }

std::runtime_error failure(const std::filesystem::path& file, const std::string& what) {
  return std::runtime_error("accounts database " + quoted(file) + ": " + what);
}

connection open(const std::filesystem::path& file) {
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  if (error) throw failure(file, "cannot create its directory (" + error.message() + ")");
  connection db(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  // SQLite falls back to read-only quietly on a write-protected file: an
  // account created must not be lost later for it.
  if (sqlite3_db_readonly(db.get(), "main") == 1) throw failure(file, "is read-only");
  // Another process (a backup) may hold a lock for a moment.
  db.check(sqlite3_busy_timeout(db.get(), 5000));
  return db;
}

std::int64_t user_version(connection& db) {
  statement version(db, "PRAGMA user_version");
  reset_on_exit reset(version);
  version.step();
  return version.column_int(0);
}

void use_wal(connection& db, const std::filesystem::path& file) {
  statement mode(db, "PRAGMA journal_mode = WAL");
  reset_on_exit reset(mode);
  mode.step();
  // The answer is the mode in force, the old one where WAL is impossible.
  if (const std::string got = mode.column_text(0); got != "wal") {
    throw failure(file, "cannot use WAL mode (journal mode is '" + got + "')");
  }
}

void upgrade(connection& db, const std::filesystem::path& file) {
  // The first read: a file that is not a database fails here (SQLITE_NOTADB).
  const std::int64_t found = user_version(db);
  if (found > schema_version) {
    throw failure(file, "has schema version " + std::to_string(found) +
                            ", newer than this server knows (" + std::to_string(schema_version) +
                            ")");
  }
  use_wal(db, file);
  // FULL: the WAL is synced at every commit, so an account reported created
  // survives a crash or a power cut. Accounts change rarely; the cost is
  // one sync per change.
  db.execute("PRAGMA synchronous = FULL");
  if (found == schema_version) return;
  db.execute("BEGIN IMMEDIATE");
  if (found < 1) db.execute(create_version_1);
  db.execute(("PRAGMA user_version = " + std::to_string(schema_version)).c_str());
  db.execute("COMMIT");
}

connection open_and_upgrade(const std::filesystem::path& file) try {
  connection db = open(file);
  upgrade(db, file);
  return db;
} catch (const sqlite::sqlite_error& e) {
  throw failure(file, e.what());
}

}  // namespace

account_table::account_table(const std::filesystem::path& file) try
    : path_(file),
      db_(open_and_upgrade(file)),
      insert_(db_,
              "INSERT INTO accounts(key, name, hash, created_ms) VALUES (?1, ?2, ?3, ?4) "
              "ON CONFLICT(key) DO NOTHING"),
      replace_hash_(db_, "UPDATE accounts SET hash = ?3 WHERE key = ?1 AND hash = ?2"),
      erase_(db_, "DELETE FROM accounts WHERE key = ?1 AND hash = ?2") {
} catch (const sqlite::sqlite_error& e) {
  throw failure(file, e.what());
}

std::vector<stored_account> account_table::load_all() {
  statement select(db_, "SELECT key, name, hash, created_ms FROM accounts");
  reset_on_exit reset(select);
  std::vector<stored_account> accounts;
  while (select.step()) {
    accounts.push_back({.key = select.column_text(0),
                        .name = select.column_text(1),
                        .hash = select.column_text(2),
                        .created_ms = select.column_int(3)});
  }
  return accounts;
}

bool account_table::insert(const stored_account& account) {
  reset_on_exit reset(insert_);
  insert_.bind(1, account.key);
  insert_.bind(2, account.name);
  insert_.bind(3, account.hash);
  insert_.bind(4, account.created_ms);
  insert_.step();
  return sqlite3_changes(db_.get()) == 1;
}

bool account_table::replace_hash(std::string_view key, std::string_view expected,
                                 std::string_view hash) {
  reset_on_exit reset(replace_hash_);
  replace_hash_.bind(1, key);
  replace_hash_.bind(2, expected);
  replace_hash_.bind(3, hash);
  replace_hash_.step();
  return sqlite3_changes(db_.get()) == 1;
}

bool account_table::erase(std::string_view key, std::string_view expected) {
  reset_on_exit reset(erase_);
  erase_.bind(1, key);
  erase_.bind(2, expected);
  erase_.step();
  return sqlite3_changes(db_.get()) == 1;
}

}  // namespace chat::accounts::detail
