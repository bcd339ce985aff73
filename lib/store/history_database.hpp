#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "store/store_error.hpp"
#include "store/stored_message.hpp"

namespace chat::store {

// Tuning of the writer; the defaults suit the server, tests shrink them.
struct history_options {
  // Messages waiting for the disk. Past it the oldest are dropped: a slow disk
  // must cost history, never delivery speed or unbounded memory.
  std::size_t max_queued = 100'000;
  // Messages per transaction: large enough to amortise the commit, small
  // enough that the writer hands the queue back to load() often.
  std::size_t max_batch = 1'000;
  // How long the writer lets a batch fill before committing it.
  std::chrono::milliseconds batch_interval{50};
  // How long a statement waits for a lock held by another connection before
  // it fails (another process with the same file, or a backup tool).
  std::chrono::milliseconds busy_timeout{5'000};
};

// Room messages kept in DIR, written by a thread of its own so that the
// threads delivering messages never wait for the disk: packed into chunks in
// DIR/history.chunks, indexed by the SQLite database DIR/history.sqlite3.
//
// Thread-safe: every member function may be called from any thread, except
// that the destructor must not race with the others.
class history_database {
public:
  // The index: where each chunk of messages is, the id sequence, the schema version.
  static constexpr std::string_view file_name = "history.sqlite3";
  // The chunks themselves, appended and never moved.
  static constexpr std::string_view chunks_file_name = "history.chunks";

  // Receives one human-readable line per problem met once the files are
  // open: history lost to a crash, failed writes, dropped messages, failed reads. Called from the
  // writer thread and from threads calling load(), so it must be thread-safe;
  // it must not call back into this object.
  using error_handler = std::function<void(std::string_view)>;

  // Opens or creates both files, creating DIR if missing, and checks the
  // index (PRAGMA quick_check). Throws store_error naming the path when the
  // directory cannot be created or written, the index is not a SQLite
  // database, is corrupt, or holds a schema this code does not know, or the
  // chunk file cannot be opened.
  explicit history_database(const std::filesystem::path& dir, error_handler on_error = {},
                            history_options options = {});

  // Writes everything appended (unless writes are failing), then stops the writer.
  ~history_database();

  history_database(const history_database&) = delete;
  history_database& operator=(const history_database&) = delete;

  // Queues the message for the writer and returns at once: it never waits for
  // the disk. Past history_options::max_queued the oldest unwritten messages
  // are dropped; the writer reports how many, at once and then at most every
  // ten seconds while the overload lasts. A room's messages must come in
  // increasing id order (the hub stamps and appends under one lock); a
  // message with an empty room keeps only its id, for last_id().
  void append(const stored_message_view& message);

  // Blocks until everything appended before the call has been committed, or
  // its write has failed and been reported.
  void flush();

  // Up to `limit` messages of `room` with an id below `before` (0 = no bound),
  // oldest first. Sees every message appended before the call, written or
  // not. Reads through a connection of its own, so it never waits for the
  // writer. A read error is reported and only the unwritten messages are returned.
  std::vector<stored_message> load(std::string_view room, std::uint64_t before, std::size_t limit);

  // The highest id stored or appended so far (0 when none), so that a
  // restarted server continues the sequence. Does not touch the disk.
  std::uint64_t last_id() const;

  // DIR/history.sqlite3, for log lines.
  const std::filesystem::path& path() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace chat::store
