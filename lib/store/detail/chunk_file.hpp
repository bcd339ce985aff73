#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

// The file that holds the chunks' bytes (chunk.hpp), beside the SQLite index
// that says where each one is. Chunks are written once, at the end, and never
// moved: a batch costs one write, where a BLOB in SQLite was copied into the
// WAL and copied again by the checkpoint, and at a million messages a second
// those copies were most of what persistence cost.
namespace chat::store::detail {

class chunk_file {
public:
  // Opens `file` for reading and writing, creating it when missing, and
  // locks it for this process. Throws store_error naming the path, also when
  // another process holds the lock.
  explicit chunk_file(const std::filesystem::path& file);
  ~chunk_file();

  chunk_file(const chunk_file&) = delete;
  chunk_file& operator=(const chunk_file&) = delete;

  // Every std::system_error thrown below names the file.

  std::uint64_t size() const;

  // Writes `bytes` at `offset`, all of them or throws std::system_error.
  void write_at(std::uint64_t offset, std::string_view bytes);

  // The `size` bytes at `offset`. Throws std::runtime_error when the file
  // ends before them, std::system_error when reading fails. Safe to call from
  // several threads at once, and while another thread writes elsewhere.
  std::string read_at(std::uint64_t offset, std::uint64_t size) const;

  void truncate(std::uint64_t size);

  // Gives the blocks of [from, to) back to the file system, keeping the
  // file's size, so every other chunk keeps its offset. Throws
  // std::system_error (EOPNOTSUPP where the file system cannot).
  void punch_hole(std::uint64_t from, std::uint64_t to);

  // Bytes below this offset are no longer indexed and may read as zeros at
  // any moment (a hole is being punched): a reader that finds a chunk there
  // damaged read it from an older snapshot of the index, and skips it.
  std::uint64_t dead_below() const noexcept { return dead_below_.load(std::memory_order_acquire); }
  void mark_dead_below(std::uint64_t offset) noexcept {
    if (offset > dead_below()) dead_below_.store(offset, std::memory_order_release);
  }

  // Returns once everything written is on the disk.
  void sync();

  // Starts writing `size` bytes at `offset` to the disk without waiting for
  // them. Called by the writer thread, this puts the kernel's work of
  // writing back on that thread, batch by batch, instead of on flusher
  // threads that wake up later with gigabytes to write and compete with
  // delivery. Best effort: errors are ignored.
  void start_writeback(std::uint64_t offset, std::uint64_t size) noexcept;

  const std::filesystem::path& path() const noexcept { return path_; }

private:
  [[noreturn]] void fail(const char* what) const;

  std::filesystem::path path_;
  int fd_ = -1;
  // Raised by the writer only.
  std::atomic<std::uint64_t> dead_below_{0};
};

}  // namespace chat::store::detail
