#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sqlite3.h>

// Thin owners of SQLite handles, shared by the store and the accounts. Only
// their sources include this: their public headers never include sqlite3.h.
namespace chat::sqlite {

// SQLite integers are signed: ids, offsets and sizes are stored clamped to
// int64's range, which none of them reaches in practice.
constexpr std::uint64_t int64_max = std::numeric_limits<std::int64_t>::max();
inline std::int64_t to_int64(std::uint64_t value) {
  return static_cast<std::int64_t>(std::min(value, int64_max));
}

// A failed SQLite call: the result code and SQLite's own words for it. The
// caller rewraps it with the path and what it was doing.
class sqlite_error : public std::runtime_error {
public:
  sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }

private:
  // Primary code (SQLITE_NOTADB, SQLITE_CORRUPT...), to tell the reasons apart.
  int code_;
};

class connection {
public:
  // Opens `file`; throws sqlite_error when SQLite cannot.
  connection(const std::filesystem::path& file, int flags);
  ~connection();

  // Movable so that a function can open and check a database, then hand it over.
  connection(connection&& other) noexcept;
  connection& operator=(connection&&) = delete;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  sqlite3* get() const noexcept { return db_; }

  // Runs statements that return nothing of interest (schema, pragmas).
  void execute(const char* sql);

  // SQLite's message for the last failure, with the system's reason for an
  // I/O failure ("unable to open database file (Permission denied)").
  std::string last_error() const;

  // Throws sqlite_error unless `code` is a success (OK, ROW or DONE).
  void check(int code) const;

private:
  sqlite3* db_ = nullptr;
};

// A prepared statement, kept for the life of its connection and reused.
class statement {
public:
  statement(connection& db, std::string_view sql);
  ~statement();

  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  // Parameters are numbered from 1, as in SQL. Text is bound without a copy:
  // it must outlive the next reset().
  void bind(int index, std::int64_t value);
  void bind(int index, std::string_view text);
  void bind_blob(int index, std::string_view bytes);
  void bind_null(int index);

  // True for a row, false when done; throws sqlite_error on failure.
  bool step();

  std::int64_t column_int(int index) const;
  bool column_is_null(int index) const;
  std::string column_text(int index) const;
  // Valid until the next step() or reset().
  std::string_view column_blob(int index) const;

  // Ready for the next use: also ends the read it held open, which would
  // otherwise keep the WAL from being checkpointed.
  void reset() noexcept;

private:
  connection& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement however the scope using it ends.
class reset_on_exit {
public:
  explicit reset_on_exit(statement& s) noexcept : statement_(s) {}
  ~reset_on_exit() { statement_.reset(); }
  reset_on_exit(const reset_on_exit&) = delete;
  reset_on_exit& operator=(const reset_on_exit&) = delete;

private:
  statement& statement_;
};

}  // namespace chat::sqlite
