#include "sqlite/sqlite.hpp"

#include <system_error>
#include <utility>

namespace chat::sqlite {

namespace {

std::string error_text(sqlite3* db) {
  std::string text = db ? sqlite3_errmsg(db) : "out of memory";
  // SQLite's "disk I/O error" or "unable to open database file" alone does
  // not say whether the disk is full or a permission is missing.
  if (db) {
    if (const int err = sqlite3_system_errno(db); err != 0) {
      text += " (";
      text += std::generic_category().message(err);
      text += ')';
    }
  }
  return text;
}

}  // namespace

connection::connection(const std::filesystem::path& file, int flags) {
  const int rc = sqlite3_open_v2(file.c_str(), &db_, flags | SQLITE_OPEN_EXRESCODE, nullptr);
  if (rc != SQLITE_OK) {
    // A handle comes back even on failure, holding the message.
    sqlite_error error(rc & 0xff, error_text(db_));
    sqlite3_close(db_);
    db_ = nullptr;
    throw error;
  }
}

connection::connection(connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

connection::~connection() {
  // Every statement is finalised first (they are members declared after
  // their connection), so this closes for real and checkpoints the WAL.
  sqlite3_close(db_);
}

void connection::execute(const char* sql) {
  check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr));
}

std::string connection::last_error() const { return error_text(db_); }

void connection::check(int code) const {
  if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE) return;
  throw sqlite_error(code & 0xff, last_error());
}

statement::statement(connection& db, std::string_view sql) : db_(db) {
  db_.check(sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr));
}

statement::~statement() { sqlite3_finalize(stmt_); }

void statement::bind(int index, std::int64_t value) {
  db_.check(sqlite3_bind_int64(stmt_, index, value));
}

void statement::bind(int index, std::string_view text) {
  // A null pointer would bind NULL, not the empty string.
  const char* data = text.empty() ? "" : text.data();
  db_.check(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8));
}

void statement::bind_blob(int index, std::string_view bytes) {
  // Like text: a null pointer would bind NULL rather than an empty blob.
  const char* data = bytes.empty() ? "" : bytes.data();
  db_.check(sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_STATIC));
}

void statement::bind_null(int index) { db_.check(sqlite3_bind_null(stmt_, index)); }

bool statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

bool statement::step() {
  const int rc = sqlite3_step(stmt_);
  db_.check(rc);
  return rc == SQLITE_ROW;
}

std::int64_t statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string statement::column_text(int index) const {
  // Text first, then its length: the order SQLite documents as safe.
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
  return text ? std::string(text, size) : std::string();
}

std::string_view statement::column_blob(int index) const {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, index));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index));
  return bytes ? std::string_view(bytes, size) : std::string_view();
}

void statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

}  // namespace chat::sqlite
