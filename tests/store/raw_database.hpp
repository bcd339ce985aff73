#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include <sqlite3.h>

namespace chat::store::test {

// A plain SQLite connection of the test's own, standing in for another
// process that shares the file or for whoever left it in an odd state.
class raw_database {
public:
  explicit raw_database(const std::filesystem::path& file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) {
      const std::string message = sqlite3_errmsg(db_);
      sqlite3_close(db_);
      throw std::runtime_error("test cannot open " + file.string() + ": " + message);
    }
    sqlite3_busy_timeout(db_, 10'000);
  }

  ~raw_database() { sqlite3_close(db_); }

  raw_database(const raw_database&) = delete;
  raw_database& operator=(const raw_database&) = delete;

  void execute(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("test SQL failed: " + sql + ": " + message);
    }
  }

private:
  sqlite3* db_ = nullptr;
};

}  // namespace chat::store::test
