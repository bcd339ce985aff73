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

// How far a commit goes before it counts as done.
enum class sync_mode {
  // Written to the system (pwrite, a WAL commit): survives the server being
  // killed, not a power cut.
  none,
  // Also synced (fdatasync of the chunk file, then a synced WAL commit)
  // before the batch's outcome is reported: survives a power cut too.
  batch,
};

// Tuning of the writer; the defaults suit the server, tests shrink them.
struct history_options {
  // Bytes appended and not yet committed past which backlogged() is true; it
  // is false again below half. append() never drops: the producer is
  // expected to hold back while backlogged.
  std::size_t max_backlog_bytes = std::size_t{32} << 20;
  // Messages per transaction: large enough to amortise the commit (with
  // sync_mode::batch two syncs, some 10 ms here: 10'000 a batch keeps up with
  // half a million messages a second), small enough that the writer hands
  // the queue back to load() often.
  std::size_t max_batch = 10'000;
  // How long the writer lets a batch fill before committing it: the longest
  // a commit (and so an ack) waits for company. Short, because messages
  // that arrive while a batch is written and synced form the next batch anyway.
  std::chrono::milliseconds batch_interval{2};
  sync_mode sync = sync_mode::batch;
  // Retention by bytes of chunk data indexed (0: keep all), and by the age of
  // a chunk's newest message, by its ts (0: keep all). Whole chunks go, the
  // oldest first.
  std::uint64_t max_bytes = 0;
  std::chrono::seconds max_age{0};
  // How long a statement waits for a lock held by another connection before
  // it fails (another process with the same file, or a backup tool).
  std::chrono::milliseconds busy_timeout{5'000};
};

// What became of every message appended up to an id.
struct commit_outcome {
  // Every id appended up to this one (room message or id-only) is settled.
  std::uint64_t through_id = 0;
  // True: committed (and synced with sync_mode::batch). False: the write
  // failed, or was given up at shutdown; these messages are not on disk, and
  // load_after() reports their rooms' ids as possibly missing.
  bool stored = false;
  // The queue is still backlogged after this batch.
  bool backlogged = false;
};

// Room messages kept in DIR, written by a thread of its own so that the
// threads delivering messages never wait for the disk: packed into chunks in
// DIR/history.chunks, indexed by the SQLite database DIR/history.sqlite3.
// Each batch is one group commit: its outcome (commit_handler) is what an
// ack waits for.
//
// Thread-safe: every member function may be called from any thread, except
// that the destructor must not race with the others.
class history_database {
public:
  // The index: where each chunk of messages is, the id sequence, the schema version.
  static constexpr std::string_view file_name = "history.sqlite3";
  // The chunks themselves, appended and never moved; retention frees the
  // space of the oldest (holes punched), keeping every offset.
  static constexpr std::string_view chunks_file_name = "history.chunks";

  // Receives one human-readable line per problem met once the files are
  // open: history lost to a crash, failed writes, failed reads. Called from the
  // writer thread and from threads calling load(), so it must be thread-safe;
  // it must not call back into this object.
  using error_handler = std::function<void(std::string_view)>;

  // Receives the outcome of each batch, on the writer thread, in id order,
  // covering every id appended: keep it quick (hand it to another thread),
  // and do not call back into this object from it.
  using commit_handler = std::function<void(const commit_outcome&)>;

  // Opens or creates both files, creating DIR if missing, and checks the
  // index (PRAGMA quick_check). Throws store_error naming the path when the
  // directory cannot be created or written, the index is not a SQLite
  // database, is corrupt, or holds a schema this code does not know, or the
  // chunk file cannot be opened.
  explicit history_database(const std::filesystem::path& dir, error_handler on_error = {},
                            history_options options = {}, commit_handler on_commit = {});

  // Writes everything appended (unless writes are failing: then the rest is
  // reported as not stored), then stops the writer.
  ~history_database();

  history_database(const history_database&) = delete;
  history_database& operator=(const history_database&) = delete;

  // Queues the message for the writer and returns at once: it never waits for
  // the disk and never drops (see backlogged()). Ids must come in increasing
  // order across all appends (the hub stamps and appends under one lock), so
  // that an outcome's through_id covers everything before it; a message with
  // an empty room keeps only its id, for last_id().
  void append(const stored_message_view& message);

  // More than history_options::max_backlog_bytes wait for the disk (until
  // below half). One atomic load.
  bool backlogged() const noexcept;
  // How much waits for the disk now, in bytes (for /metrics; takes a lock).
  std::size_t backlog_bytes() const;

  // False from a failed write until a write succeeds.
  bool available() const noexcept;

  // Blocks until everything appended before the call has been committed, or
  // its write has failed and been reported.
  void flush();

  // Up to `limit` messages of `room` with an id below `before` (0 = no bound),
  // oldest first. Sees every message appended before the call, written or
  // not. Reads through a connection of its own, so it never waits for the
  // writer. A read error is reported and only the unwritten messages are returned.
  std::vector<stored_message> load(std::string_view room, std::uint64_t before, std::size_t limit);

  struct replay_page {
    // Ids in (after, through], oldest first, at most `limit`.
    std::vector<stored_message> messages;
    // There are more in (messages.back().id, through].
    bool more = false;
    // Above `after`: messages of the room with ids in (after, lost_through]
    // may be gone (retention dropped them, their write failed, a crash lost
    // them); never above `through`. Else 0.
    std::uint64_t lost_through = 0;
  };

  // For a client that saw everything up to `after`: the room's next
  // messages up to `through` (0: no bound), seeing the queue and the disk
  // as load() does, and whether the store no longer reaches back that far.
  // A read error is reported and counts as a gap over the whole range.
  replay_page load_after(std::string_view room, std::uint64_t after, std::uint64_t through,
                         std::size_t limit);

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
