#include "store/detail/chunk_file.hpp"

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/detail/quoted.hpp"
#include "store/store_error.hpp"

namespace chat::store::detail {

namespace {

std::string errno_text() { return std::generic_category().message(errno); }

}  // namespace

[[noreturn]] void chunk_file::fail(const char* what) const {
  // Read first: building the message may change errno.
  const int error = errno;
  throw std::system_error(error, std::generic_category(), what + (' ' + quoted(path_)));
}

chunk_file::chunk_file(const std::filesystem::path& file) : path_(file) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const std::string reason = errno_text();
    throw store_error("cannot open history file " + quoted(file) + ": " + reason);
  }
  const auto refuse = [&](const std::string& why) {
    ::close(fd_);
    throw store_error(why);
  };
  struct stat status {};
  if (::fstat(fd_, &status) != 0) {
    refuse("cannot examine history file " + quoted(file) + ": " + errno_text());
  }
  if (!S_ISREG(status.st_mode)) refuse("history file " + quoted(file) + " is not a regular file");
  // Two servers appending to one file would write over each other's chunks.
  // The lock goes with the process, so a crashed server leaves none behind.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    refuse(errno == EWOULDBLOCK ? "history file " + quoted(file) + " is in use by another process"
                                : "cannot lock history file " + quoted(file) + ": " + errno_text());
  }
}

chunk_file::~chunk_file() { ::close(fd_); }

std::uint64_t chunk_file::size() const {
  struct stat status {};
  if (::fstat(fd_, &status) != 0) fail("examine");
  return static_cast<std::uint64_t>(status.st_size);
}

void chunk_file::write_at(std::uint64_t offset, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
    offset += static_cast<std::uint64_t>(written);
  }
}

std::string chunk_file::read_at(std::uint64_t offset, std::uint64_t size) const {
  std::string bytes(size, '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t read =
        ::pread(fd_, bytes.data() + got, bytes.size() - got, static_cast<off_t>(offset + got));
    if (read < 0) {
      if (errno == EINTR) continue;
      fail("read");
    }
    if (read == 0) {
      throw std::runtime_error("a history chunk is missing from the end of " + quoted(path_));
    }
    got += static_cast<std::size_t>(read);
  }
  return bytes;
}

void chunk_file::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) fail("truncate");
}

void chunk_file::punch_hole(std::uint64_t from, std::uint64_t to) {
  if (to <= from) return;
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from),
                  static_cast<off_t>(to - from)) != 0) {
    fail("free space in");
  }
}

void chunk_file::start_writeback(std::uint64_t offset, std::uint64_t size) noexcept {
  ::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(size),
                    SYNC_FILE_RANGE_WRITE);
}

void chunk_file::sync() {
  if (::fdatasync(fd_) != 0) fail("sync");
}

}  // namespace chat::store::detail
