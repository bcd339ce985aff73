#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/moderation_record.hpp"
#include "sqlite/sqlite.hpp"

// The accounts' SQLite file: its schema, and the few statements that change
// it. One connection, not thread-safe: the service writes through it under
// its own mutex.
namespace chat::accounts::detail {

struct stored_account {
  std::string key;  // protocol::fold_name(name)
  std::string name;
  std::string hash;
  std::int64_t created_ms = 0;
};

class account_table {
public:
  // Opens (creating if missing) `file`, in WAL mode with synchronous=FULL,
  // and brings its schema up to date. Throws std::runtime_error naming the
  // file and the reason when it cannot.
  explicit account_table(const std::filesystem::path& file);

  const std::filesystem::path& path() const noexcept { return path_; }

  std::vector<stored_account> load_all();

  // False, writing nothing, when the key has an account already.
  bool insert(const stored_account& account);
  // Both false, changing nothing, unless `key`'s hash is still `expected`:
  // a change made meanwhile by another request is not overwritten.
  bool replace_hash(std::string_view key, std::string_view expected, std::string_view hash);
  bool erase(std::string_view key, std::string_view expected);

  // Moderation (schema 2): every record kept, and one change to them.
  std::vector<moderation_record> load_moderation();
  void apply(const moderation_change& change);
  // Several changes in one transaction (one sync).
  template <class Changes>
  void apply_all(const Changes& changes) {
    db_.execute("BEGIN IMMEDIATE");
    try {
      for (const moderation_change& c : changes) apply(c);
    } catch (...) {
      db_.execute("ROLLBACK");
      throw;
    }
    db_.execute("COMMIT");
  }

private:
  std::filesystem::path path_;
  sqlite::connection db_;
  // Declared after db_: finalised before it closes.
  sqlite::statement insert_;
  sqlite::statement replace_hash_;
  sqlite::statement erase_;
};

}  // namespace chat::accounts::detail
