#include "accounts/detail/account_table.hpp"

#include <stdexcept>

namespace chat::accounts::detail {

namespace {

using sqlite::connection;
using sqlite::reset_on_exit;
using sqlite::statement;

// Kept in PRAGMA user_version; raised by every change to the tables, each
// step below bringing a file of the version before it up to date.
// 1: accounts. 2: moderation (room operators, bans, mutes, private rooms
// and their invitations).
constexpr std::int64_t schema_version = 2;

constexpr const char* create_version_1 =
    "CREATE TABLE accounts ("
    " key TEXT PRIMARY KEY," /* the folded name */
    " name TEXT NOT NULL,"   /* as registered */
    " hash TEXT NOT NULL,"   /* crypto_pwhash_str */
    " created_ms INTEGER NOT NULL)";

// Rooms and names folded; an empty room is the whole server.
constexpr const char* create_version_2[] = {
    "CREATE TABLE room_ops (room TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (room, name))",
    "CREATE TABLE bans (room TEXT NOT NULL, target TEXT NOT NULL, by TEXT NOT NULL,"
    " reason TEXT NOT NULL, until_ms INTEGER NOT NULL, PRIMARY KEY (room, target))",
    "CREATE TABLE mutes (room TEXT NOT NULL, name TEXT NOT NULL, by TEXT NOT NULL,"
    " reason TEXT NOT NULL, until_ms INTEGER NOT NULL, PRIMARY KEY (room, name))",
    "CREATE TABLE room_modes (room TEXT PRIMARY KEY, private INTEGER NOT NULL)",
    "CREATE TABLE invites (room TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (room, name))",
};

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
  if (found < 2) {
    for (const char* sql : create_version_2) db.execute(sql);
  }
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

std::vector<moderation_record> account_table::load_moderation() {
  using kind = moderation_record::kind;
  std::vector<moderation_record> records;
  const auto read = [&](kind what, const char* sql) {
    statement select(db_, sql);
    reset_on_exit reset(select);
    while (select.step()) {
      moderation_record r;
      r.what = what;
      r.room = select.column_text(0);
      r.target = select.column_text(1);
      r.by = select.column_text(2);
      r.reason = select.column_text(3);
      r.until_ms = select.column_int(4);
      records.push_back(std::move(r));
    }
  };
  read(kind::room_op, "SELECT room, name, '', '', 0 FROM room_ops");
  read(kind::ban, "SELECT room, target, by, reason, until_ms FROM bans");
  read(kind::mute, "SELECT room, name, by, reason, until_ms FROM mutes");
  read(kind::private_room, "SELECT room, '', '', '', 0 FROM room_modes WHERE private = 1");
  read(kind::invite, "SELECT room, name, '', '', 0 FROM invites");
  return records;
}

void account_table::apply(const moderation_change& change) {
  using kind = moderation_record::kind;
  const moderation_record& r = change.record;
  const char* sql = nullptr;
  switch (r.what) {
    case kind::room_op:
      sql = change.add ? "INSERT OR REPLACE INTO room_ops(room, name) VALUES (?1, ?2)"
                       : "DELETE FROM room_ops WHERE room = ?1 AND name = ?2";
      break;
    case kind::ban:
      sql = change.add ? "INSERT OR REPLACE INTO bans(room, target, by, reason, until_ms)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)"
                       : "DELETE FROM bans WHERE room = ?1 AND target = ?2";
      break;
    case kind::mute:
      sql = change.add ? "INSERT OR REPLACE INTO mutes(room, name, by, reason, until_ms)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)"
                       : "DELETE FROM mutes WHERE room = ?1 AND name = ?2";
      break;
    case kind::private_room:
      sql = change.add ? "INSERT OR REPLACE INTO room_modes(room, private) VALUES (?1, 1)"
                       : "DELETE FROM room_modes WHERE room = ?1";
      break;
    case kind::invite:
      sql = change.add ? "INSERT OR REPLACE INTO invites(room, name) VALUES (?1, ?2)"
                       : "DELETE FROM invites WHERE room = ?1 AND name = ?2";
      break;
  }
  statement write(db_, sql);
  reset_on_exit reset(write);
  write.bind(1, r.room);
  const bool has_target = r.what != kind::private_room;
  if (has_target) write.bind(2, r.target);
  if (change.add && (r.what == kind::ban || r.what == kind::mute)) {
    write.bind(3, r.by);
    write.bind(4, r.reason);
    write.bind(5, r.until_ms);
  }
  write.step();
}

}  // namespace chat::accounts::detail
