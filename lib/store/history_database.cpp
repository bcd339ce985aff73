#include "store/history_database.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include <sched.h>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "store/detail/append_queue.hpp"
#include "store/detail/message_table.hpp"
#include "store/detail/quoted.hpp"
#include "store/detail/schema.hpp"
#include "sqlite/sqlite.hpp"

namespace chat::store {

namespace {

using detail::quoted;

// Creates DIR if needed; returns DIR/history.sqlite3.
std::filesystem::path prepare_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
    throw store_error("history directory " + quoted(dir) + " exists but is not a directory");
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw store_error("cannot create history directory " + quoted(dir) + ": " + ec.message());
  }
  // SQLite needs to create the -wal and -shm files beside the database, and
  // its own message for a missing permission ("unable to open database
  // file", with a stale errno) does not point at the directory.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw store_error("history directory " + quoted(dir) +
                      " is not writable: " + std::generic_category().message(errno));
  }
  return dir / history_database::file_name;
}

// Puts SQLite's refusal to open in terms of what the operator should do.
store_error open_failure(const std::filesystem::path& file, const sqlite::sqlite_error& e) {
  switch (e.code()) {
    case SQLITE_NOTADB:
      return store_error("history database " + quoted(file) + " is not a SQLite database (" +
                         e.what() + "); move it away or use another directory");
    case SQLITE_CORRUPT:
      return store_error("history database " + quoted(file) + " is corrupt (" + e.what() +
                         "); restore it from a backup, or move it and the chunk file away");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return store_error("history database " + quoted(file) + " is locked by another process (" +
                         e.what() + ")");
    default: return store_error("cannot open history database " + quoted(file) + ": " + e.what());
  }
}

// Beside the files while a server has them open, removed when it closes
// them with everything written.
constexpr std::string_view running_marker = "history.running";

// Returns whether the marker was already there (the last server crashed),
// and leaves it there for this one.
bool mark_running(const std::filesystem::path& dir) {
  const auto marker = dir / running_marker;
  std::error_code ec;
  const bool crashed = std::filesystem::exists(marker, ec);
  if (!crashed) {
    const int fd = ::open(marker.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw store_error("cannot create " + quoted(marker) + ": " +
                        std::generic_category().message(errno));
    }
    ::fsync(fd);
    ::close(fd);
  }
  return crashed;
}

// Messages are delivered before they are stored, so a crash may lose ids
// that clients saw: the next server starts past every id that could have
// been waiting for the disk, so that no id ever names two messages. The
// queue holds at most max_backlog_bytes (plus a turn per sender), and no
// record is smaller than 16 bytes.
std::uint64_t ids_a_crash_may_lose(const history_options& options) {
  return options.max_backlog_bytes / 16 + 1'000'000;
}

void write_to_stderr(std::string_view line) {
  // One insertion per line, so concurrent reports do not interleave mid-line.
  std::cerr << (std::string("history: ").append(line) += '\n') << std::flush;
}

}  // namespace

struct history_database::impl {
  impl(const std::filesystem::path& dir, error_handler handler, const history_options& options,
       commit_handler on_commit);
  ~impl();

  void report(std::string_view line) noexcept;
  void run_writer() noexcept;
  void run_reclaimer() noexcept;
  // Returns whether the batch was stored.
  bool write(const detail::packed_messages& batch);
  void tell(const commit_outcome& outcome) noexcept;
  void lose(const detail::packed_messages& batch);
  // Retention, when due; returns how long the writer may sleep before it is
  // due again (max: never, until something is written).
  std::chrono::milliseconds retain() noexcept;
  void schedule_age_check();
  void raise_floor(std::string_view room, std::uint64_t id);

  const std::filesystem::path file_;
  const error_handler on_error_;
  const commit_handler on_commit_;
  const history_options options_;

  // Opened first: its lock keeps a second server out of the directory
  // before either touches the index. Written by the writer thread only; read
  // by threads calling load(), holes punched by the reclaimer.
  detail::chunk_file chunks_;
  // Used by the writer thread only (and by the constructor before it starts).
  sqlite::connection write_db_;
  detail::message_writer writer_;
  // The previous server of this directory did not close it: ids it handed
  // out may never have reached the disk.
  const bool left_running_;
  // Highest id on disk when opened (past what a crash may have lost); later
  // ones are tracked by the queue.
  const std::uint64_t highest_at_open_;
  // Set while writes fail, so that a dead disk is reported once, not per batch.
  bool failing_ = false;
  // Read without the writer's help by available().
  std::atomic<bool> available_{true};
  // Messages lost since writes began to fail, told when they work again.
  std::uint64_t lost_while_failing_ = 0;
  // Retention by age is due then (system clock ms), if ever.
  std::optional<std::int64_t> age_check_due_;
  // A retention failure is reported once until a pass succeeds.
  bool retention_failing_ = false;

  // What load_after() reports as possibly missing: read by any thread,
  // raised by the writer (and by the constructor).
  mutable std::mutex floors_mutex_;
  detail::room_floors floors_;

  // One read connection, taken in turn: pages are small and rare next to writes.
  std::mutex read_mutex_;
  sqlite::connection read_db_;
  detail::message_reader reader_;

  // Freeing the bytes of dropped chunks is left to a thread at idle priority:
  // nothing waits for it, and it must not compete with delivery. (The writer
  // cannot drop to idle priority for a while and come back: an unprivileged
  // thread may not leave SCHED_IDLE.)
  std::mutex reclaim_mutex_;
  std::condition_variable reclaim_wanted_;
  std::uint64_t reclaim_target_ = 0;
  bool reclaim_stop_ = false;
  std::thread reclaimer_thread_;

  detail::append_queue queue_;
  // Started last, so it never sees a half-built object.
  std::thread writer_thread_;
};

history_database::impl::impl(const std::filesystem::path& dir, error_handler handler,
                             const history_options& options, commit_handler on_commit)
    : file_(prepare_directory(dir)),
      on_error_(handler ? std::move(handler) : error_handler(write_to_stderr)),
      on_commit_(std::move(on_commit)),
      options_(options),
      chunks_(dir / chunks_file_name),
      write_db_(detail::open_for_writing(file_, chunks_, options.busy_timeout,
                                         options.sync == sync_mode::batch)),
      writer_(write_db_, chunks_),
      left_running_(mark_running(dir)),
      highest_at_open_(writer_.highest_id() + (left_running_ ? ids_a_crash_may_lose(options) : 0)),
      floors_(writer_.floors()),
      read_db_(detail::open_for_reading(file_, options.busy_timeout)),
      reader_(read_db_, chunks_, [this](std::string_view line) { report(line); }),
      reclaimer_thread_([this] { run_reclaimer(); }),
      queue_(options.max_backlog_bytes, options.max_batch, options.batch_interval),
      writer_thread_([this] { run_writer(); }) {
  if (const std::uint64_t lost = writer_.lost_at_open(); lost != 0) {
    report(std::to_string(lost) + " chunks of history named by " + quoted(file_) +
           " were missing from " + quoted(chunks_.path()) +
           " (the system stopped before they reached the disk) and are forgotten");
  }
}

history_database::impl::~impl() {
  {
    std::lock_guard lock(reclaim_mutex_);
    reclaim_stop_ = true;
  }
  reclaim_wanted_.notify_one();
  if (reclaimer_thread_.joinable()) reclaimer_thread_.join();
}

void history_database::impl::report(std::string_view line) noexcept {
  try {
    on_error_(line);
  } catch (...) {
    // A failing logger must not take the writer thread down with it.
  }
}

void history_database::impl::tell(const commit_outcome& outcome) noexcept {
  if (!on_commit_) return;
  try {
    on_commit_(outcome);
  } catch (...) {
    // The writer must go on; the handler's owner logs its own failures.
  }
}

void history_database::impl::raise_floor(std::string_view room, std::uint64_t id) {
  {
    std::lock_guard lock(floors_mutex_);
    detail::raise_floor(floors_, room, id);
  }
}

void history_database::impl::run_writer() noexcept {
  // Normal priority: acks wait for commits. Under a load that uses the whole
  // machine, history keeps up with delivery or holds it back (backlogged()),
  // instead of falling behind without bound.
  std::chrono::milliseconds idle_limit = retain();
  while (auto batch = queue_.take(idle_limit)) {
    if (batch->messages.count == 0) {  // idle: retention's turn
      idle_limit = retain();
      continue;
    }
    const bool stored = write(batch->messages);
    const std::uint64_t through = batch->messages.highest_id;
    const bool backlogged = queue_.settle();
    tell({.through_id = through, .stored = stored, .backlogged = backlogged});
    // Between batches, unless the next is already waiting: retention is
    // bounded per pass, so it holds up no more than a commit. Before
    // finish(), so that a flush() returns with the store within its bounds.
    idle_limit = queue_.queued() < options_.max_batch ? retain() : std::chrono::milliseconds(0);
    queue_.finish();
    // Shutting down against a failing disk: waiting out every batch's busy
    // timeout would hold the process for minutes.
    if (batch->closing && failing_) {
      if (const auto lost = queue_.discard(); lost.count != 0) {
        report(std::to_string(lost.count) + " messages were not saved to " + quoted(file_) +
               " at shutdown because writes are failing");
        tell({.through_id = lost.highest_id, .stored = false, .backlogged = false});
      }
    }
  }
}

void history_database::impl::lose(const detail::packed_messages& batch) {
  // Per room, the newest id lost: a resume from before it is told of a gap.
  detail::room_floors lost;
  batch.for_each([&](const detail::routed_record& m) {
    if (!m.room.empty()) detail::raise_floor(lost, m.room, m.id);
  });
  for (const auto& [room, id] : lost) {
    raise_floor(room, id);
    writer_.keep_floor(room, id);
  }
}

bool history_database::impl::write(const detail::packed_messages& batch) {
  try {
    const std::size_t skipped = writer_.write(batch, options_.sync == sync_mode::batch);
    if (failing_) {
      report("writes to " + quoted(file_) + " work again; " + std::to_string(lost_while_failing_) +
             " messages were not saved while they failed");
      failing_ = false;
      lost_while_failing_ = 0;
      available_.store(true, std::memory_order_relaxed);
    }
    if (skipped != 0) {
      report(std::to_string(skipped) + " messages were not saved to " + quoted(file_) +
             ": their ids were already stored");
    }
    if (options_.max_age.count() != 0 && !age_check_due_) schedule_age_check();
    return true;
  } catch (const std::exception& e) {
    // The messages were delivered and stay in the rooms' memory; only their
    // copy on disk is lost, and the next batch tries again.
    if (!failing_) {
      report("cannot save " + std::to_string(batch.count) + " messages to " + quoted(file_) + ": " +
             e.what() + "; history is kept in memory only until writes work again");
      failing_ = true;
      available_.store(false, std::memory_order_relaxed);
    }
    lost_while_failing_ += batch.count;
    lose(batch);
    return false;
  }
}

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Chunks dropped per retention pass: a pass holds up the next commit, so it
// is kept to the order of one.
constexpr std::size_t chunks_per_pass = 2'000;

}  // namespace

void history_database::impl::schedule_age_check() {
  const std::optional<std::int64_t> front = writer_.front_newest_ts();
  if (!front) {
    age_check_due_.reset();
    return;
  }
  const std::int64_t age_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_age).count();
  age_check_due_ = *front > std::numeric_limits<std::int64_t>::max() - age_ms
                       ? std::numeric_limits<std::int64_t>::max()
                       : *front + age_ms;
}

std::chrono::milliseconds history_database::impl::retain() noexcept {
  constexpr auto never = std::chrono::milliseconds::max();
  const bool by_age = options_.max_age.count() != 0;
  if (options_.max_bytes == 0 && !by_age) return never;
  // While writes fail, so would this; and floors are raised by the writes' failure anyway.
  if (failing_) return never;
  try {
    if (by_age && !age_check_due_) schedule_age_check();
    const std::int64_t now = now_ms();
    const bool age_due = by_age && age_check_due_ && *age_check_due_ <= now;
    const bool bytes_due = options_.max_bytes != 0 && writer_.indexed_bytes() > options_.max_bytes;
    if (age_due || bytes_due) {
      std::optional<std::int64_t> oldest_kept;
      if (by_age) {
        oldest_kept =
            now - std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_age).count();
      }
      // Rows must be gone for good before their bytes are: the pass is
      // synced even where batches are not.
      const bool relaxed = options_.sync == sync_mode::none;
      if (relaxed) write_db_.execute("PRAGMA synchronous = FULL");
      detail::retention_pass pass;
      try {
        pass = writer_.drop_front(options_.max_bytes, oldest_kept, chunks_per_pass,
                                  [this](const detail::room_floors& floors) {
                                    for (const auto& [room, id] : floors) raise_floor(room, id);
                                  });
      } catch (...) {
        if (relaxed) write_db_.execute("PRAGMA synchronous = NORMAL");
        throw;
      }
      if (relaxed) write_db_.execute("PRAGMA synchronous = NORMAL");
      if (pass.dead_below != 0) {
        chunks_.mark_dead_below(pass.dead_below);
        {
          std::lock_guard lock(reclaim_mutex_);
          reclaim_target_ = std::max(reclaim_target_, pass.dead_below);
        }
        reclaim_wanted_.notify_one();
      }
      if (by_age) schedule_age_check();
      retention_failing_ = false;
      if (pass.more) return std::chrono::milliseconds(0);
    }
  } catch (const std::exception& e) {
    if (!retention_failing_) {
      report("cannot drop old history from " + quoted(file_) + ": " + e.what() +
             "; trying again later");
      retention_failing_ = true;
    }
    return std::chrono::seconds(10);
  }
  if (options_.max_bytes != 0 && writer_.indexed_bytes() > options_.max_bytes) {
    return std::chrono::milliseconds(0);
  }
  if (!by_age || !age_check_due_) return never;
  // Wakes when the front chunk comes of age, or now and then to follow the clock.
  // Not by subtracting now from a due time in the past: an unreadable front
  // chunk is due at the lowest int64.
  const std::int64_t now = now_ms();
  if (*age_check_due_ <= now) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::min<std::int64_t>(*age_check_due_ - now, 60'000));
}

void history_database::impl::run_reclaimer() noexcept {
  const sched_param idle{};
  sched_setscheduler(0, SCHED_IDLE, &idle);
  std::uint64_t freed = 0;
  bool reported = false;
  std::unique_lock lock(reclaim_mutex_);
  for (;;) {
    reclaim_wanted_.wait(lock, [&] { return reclaim_stop_ || reclaim_target_ > freed; });
    if (reclaim_target_ <= freed) return;  // stopping, nothing left to free
    const std::uint64_t target = reclaim_target_;
    lock.unlock();
    try {
      chunks_.punch_hole(freed, target);
    } catch (const std::exception& e) {
      // Not fatal: the history is still right, the file only larger than it need be.
      if (!reported) {
        report(std::string("cannot free the space of dropped history: ") + e.what());
        reported = true;
      }
    }
    freed = target;
    lock.lock();
  }
}

history_database::history_database(const std::filesystem::path& dir, error_handler on_error,
                                   history_options options, commit_handler on_commit) try
    : impl_(std::make_unique<impl>(dir, std::move(on_error), options, std::move(on_commit))) {
} catch (const sqlite::sqlite_error& e) {
  throw open_failure(dir / file_name, e);
} catch (const std::system_error& e) {
  // From the chunk file, whose messages name it.
  throw store_error(std::string("cannot open history: ") + e.what());
}

history_database::~history_database() {
  impl_->queue_.close();
  impl_->writer_thread_.join();
  // Ids handed out and not stored (writes failing at shutdown) must not be
  // handed out again: then the marker stays, as after a crash.
  if (!impl_->failing_) {
    std::error_code ignored;
    std::filesystem::remove(impl_->chunks_.path().parent_path() / running_marker, ignored);
  }
}

void history_database::append(const stored_message_view& message) { impl_->queue_.push(message); }

bool history_database::backlogged() const noexcept { return impl_->queue_.backlogged(); }

std::size_t history_database::backlog_bytes() const { return impl_->queue_.backlog_bytes(); }

bool history_database::available() const noexcept {
  return impl_->available_.load(std::memory_order_relaxed);
}

void history_database::flush() { impl_->queue_.wait_finished(); }

namespace {

void sort_unique(std::vector<stored_message>& found) {
  const auto by_id = [](const stored_message& a, const stored_message& b) { return a.id < b.id; };
  std::sort(found.begin(), found.end(), by_id);
  const auto same_id = [](const stored_message& a, const stored_message& b) {
    return a.id == b.id;
  };
  found.erase(std::unique(found.begin(), found.end(), same_id), found.end());
}

}  // namespace

std::vector<stored_message> history_database::load(std::string_view room, std::uint64_t before,
                                                   std::size_t limit) {
  if (limit == 0) return {};
  // Unwritten first, the disk second: a message that leaves the queue in
  // between was committed before the read starts, so it is in one or both,
  // never in neither.
  std::vector<stored_message> found = impl_->queue_.unwritten(room, before, limit);
  try {
    std::lock_guard lock(impl_->read_mutex_);
    std::vector<stored_message> stored = impl_->reader_.newest(room, before, limit);
    found.insert(found.end(), std::make_move_iterator(stored.begin()),
                 std::make_move_iterator(stored.end()));
  } catch (const std::exception& e) {
    impl_->report("cannot read history of room '" + std::string(room) + "' from " +
                  quoted(impl_->file_) + ": " + e.what());
  }
  sort_unique(found);
  if (found.size() > limit) {
    found.erase(found.begin(), found.end() - static_cast<std::ptrdiff_t>(limit));
  }
  return found;
}

history_database::replay_page history_database::load_after(std::string_view room,
                                                           std::uint64_t after,
                                                           std::uint64_t through,
                                                           std::size_t limit) {
  if (through == 0) through = std::numeric_limits<std::uint64_t>::max();
  replay_page page;
  if (through <= after) return page;
  // One more than asked, to tell whether there are more.
  const std::size_t wanted = limit == std::numeric_limits<std::size_t>::max() ? limit : limit + 1;
  std::vector<stored_message> found = impl_->queue_.unwritten_after(room, after, through, wanted);
  try {
    std::lock_guard lock(impl_->read_mutex_);
    std::vector<stored_message> stored = impl_->reader_.oldest_after(room, after, through, wanted);
    found.insert(found.end(), std::make_move_iterator(stored.begin()),
                 std::make_move_iterator(stored.end()));
  } catch (const std::exception& e) {
    impl_->report("cannot read history of room '" + std::string(room) + "' from " +
                  quoted(impl_->file_) + ": " + e.what());
    page.lost_through = through;
  }
  // Read after the messages: a floor rises before its messages leave the
  // queue (a failed write) or the index (retention), so a message missed
  // above has its floor seen here. One raised meanwhile over messages read
  // above only reports a gap that is not there.
  {
    std::lock_guard lock(impl_->floors_mutex_);
    if (const auto floor = impl_->floors_.find(room); floor != impl_->floors_.end()) {
      if (floor->second > after) {
        page.lost_through = std::max(page.lost_through, std::min(floor->second, through));
      }
    }
  }
  sort_unique(found);
  if (found.size() > limit) {
    page.more = true;
    found.resize(limit);
  }
  page.messages = std::move(found);
  return page;
}

std::uint64_t history_database::last_id() const {
  return std::max(impl_->highest_at_open_, impl_->queue_.highest_id());
}

const std::filesystem::path& history_database::path() const noexcept { return impl_->file_; }

}  // namespace chat::store
