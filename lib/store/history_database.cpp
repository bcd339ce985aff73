#include "store/history_database.hpp"

#include <algorithm>
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

#include <unistd.h>

#include "store/detail/append_queue.hpp"
#include "store/detail/message_table.hpp"
#include "store/detail/quoted.hpp"
#include "store/detail/schema.hpp"
#include "store/detail/sqlite.hpp"

namespace chat::store {

namespace {

using detail::quoted;

constexpr std::chrono::seconds drop_report_interval{10};

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
store_error open_failure(const std::filesystem::path& file, const detail::sqlite_error& e) {
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

void write_to_stderr(std::string_view line) {
  // One insertion per line, so concurrent reports do not interleave mid-line.
  std::cerr << (std::string("history: ").append(line) += '\n') << std::flush;
}

}  // namespace

struct history_database::impl {
  impl(const std::filesystem::path& dir, error_handler handler, const history_options& options);

  void report(std::string_view line) noexcept;
  void run_writer() noexcept;
  void count_dropped(std::uint64_t dropped, bool last);
  void write(const detail::packed_messages& batch);

  const std::filesystem::path file_;
  const error_handler on_error_;

  // Opened first: its lock keeps a second server out of the directory
  // before either touches the index. Written by the writer thread only; read
  // by threads calling load().
  detail::chunk_file chunks_;
  // Used by the writer thread only (and by the constructor before it starts).
  detail::connection write_db_;
  detail::message_writer writer_;
  // Highest id on disk when opened; later ones are tracked by the queue.
  const std::uint64_t highest_at_open_;
  // Set while writes fail, so that a dead disk is reported once, not per batch.
  bool failing_ = false;
  // Messages lost since writes began to fail, told when they work again.
  std::uint64_t lost_while_failing_ = 0;
  // Under sustained overload every batch drops some: one line per
  // drop_report_interval says it all.
  std::uint64_t unreported_drops_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_drop_report_;

  // One read connection, taken in turn: pages are small and rare next to writes.
  std::mutex read_mutex_;
  detail::connection read_db_;
  detail::message_reader reader_;

  detail::append_queue queue_;
  // Started last, so it never sees a half-built object.
  std::thread writer_thread_;
};

history_database::impl::impl(const std::filesystem::path& dir, error_handler handler,
                             const history_options& options)
    : file_(prepare_directory(dir)),
      on_error_(handler ? std::move(handler) : error_handler(write_to_stderr)),
      chunks_(dir / chunks_file_name),
      write_db_(detail::open_for_writing(file_, chunks_, options.busy_timeout)),
      writer_(write_db_, chunks_),
      highest_at_open_(writer_.highest_id()),
      read_db_(detail::open_for_reading(file_, options.busy_timeout)),
      reader_(read_db_, chunks_, [this](std::string_view line) { report(line); }),
      queue_(options.max_queued, options.max_batch, options.batch_interval),
      writer_thread_([this] { run_writer(); }) {
  if (const std::uint64_t lost = writer_.lost_at_open(); lost != 0) {
    report(std::to_string(lost) + " chunks of history named by " + quoted(file_) +
           " were missing from " + quoted(chunks_.path()) +
           " (the system stopped before they reached the disk) and are forgotten");
  }
}

void history_database::impl::report(std::string_view line) noexcept {
  try {
    on_error_(line);
  } catch (...) {
    // A failing logger must not take the writer thread down with it.
  }
}

void history_database::impl::run_writer() noexcept {
  // Idle priority: where the writer shares a core with the threads that
  // deliver messages, it runs only when they have nothing to do, and is
  // preempted the moment they do. Under a load that uses the whole core,
  // history falls behind (and, past max_queued, drops its oldest unwritten
  // messages, reported) instead of delivery slowing down.
  const sched_param idle{};
  sched_setscheduler(0, SCHED_IDLE, &idle);
  while (auto batch = queue_.take()) {
    count_dropped(batch->dropped, false);
    write(batch->messages);
    queue_.finish();
    // Shutting down against a failing disk: waiting out every batch's busy
    // timeout would hold the process for minutes.
    if (batch->closing && failing_) {
      if (const std::uint64_t lost = queue_.discard(); lost != 0) {
        report(std::to_string(lost) + " messages were not saved to " + quoted(file_) +
               " at shutdown because writes are failing");
      }
    }
  }
  count_dropped(0, true);
}

void history_database::impl::count_dropped(std::uint64_t dropped, bool last) {
  unreported_drops_ += dropped;
  if (unreported_drops_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (!last && last_drop_report_ && now - *last_drop_report_ < drop_report_interval) return;
  report(std::to_string(unreported_drops_) + " messages were not saved to " + quoted(file_) +
         ": the write queue was full because the disk is slower than messages arrive");
  unreported_drops_ = 0;
  last_drop_report_ = now;
}

void history_database::impl::write(const detail::packed_messages& batch) {
  try {
    const std::size_t skipped = writer_.write(batch);
    if (failing_) {
      report("writes to " + quoted(file_) + " work again; " + std::to_string(lost_while_failing_) +
             " messages were not saved while they failed");
      failing_ = false;
      lost_while_failing_ = 0;
    }
    if (skipped != 0) {
      report(std::to_string(skipped) + " messages were not saved to " + quoted(file_) +
             ": their ids were already stored");
    }
  } catch (const std::exception& e) {
    // The messages were delivered and stay in the rooms' memory; only their
    // copy on disk is lost, and the next batch tries again.
    if (!failing_) {
      report("cannot save " + std::to_string(batch.count) + " messages to " + quoted(file_) + ": " +
             e.what() + "; history is kept in memory only until writes work again");
      failing_ = true;
    }
    lost_while_failing_ += batch.count;
  }
}

history_database::history_database(const std::filesystem::path& dir, error_handler on_error,
                                   history_options options) try
    : impl_(std::make_unique<impl>(dir, std::move(on_error), options)) {
} catch (const detail::sqlite_error& e) {
  throw open_failure(dir / file_name, e);
} catch (const std::system_error& e) {
  // From the chunk file, whose messages name it.
  throw store_error(std::string("cannot open history: ") + e.what());
}

history_database::~history_database() {
  impl_->queue_.close();
  impl_->writer_thread_.join();
}

void history_database::append(const stored_message_view& message) { impl_->queue_.push(message); }

void history_database::flush() { impl_->queue_.wait_finished(); }

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
  const auto by_id = [](const stored_message& a, const stored_message& b) { return a.id < b.id; };
  std::sort(found.begin(), found.end(), by_id);
  const auto same_id = [](const stored_message& a, const stored_message& b) {
    return a.id == b.id;
  };
  found.erase(std::unique(found.begin(), found.end(), same_id), found.end());
  if (found.size() > limit) {
    found.erase(found.begin(), found.end() - static_cast<std::ptrdiff_t>(limit));
  }
  return found;
}

std::uint64_t history_database::last_id() const {
  return std::max(impl_->highest_at_open_, impl_->queue_.highest_id());
}

const std::filesystem::path& history_database::path() const noexcept { return impl_->file_; }

}  // namespace chat::store
