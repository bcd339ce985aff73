#include "store/detail/chunk_file.hpp"

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/detail/quoted.hpp"
#include "store/store_error.hpp"

namespace chat::store::detail {

namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

chunk_file::chunk_file(const std::filesystem::path& file) : path_(file) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw store_error("cannot open history file " + quoted(file) + ": " +
                      std::generic_category().message(errno));
  }
  struct stat status{};
  if (::fstat(fd_, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(fd_);
    throw store_error("history file " + quoted(file) + " is not a regular file");
  }
}

chunk_file::~chunk_file() { ::close(fd_); }

std::uint64_t chunk_file::size() const {
  struct stat status{};
  if (::fstat(fd_, &status) != 0) throw_errno("fstat");
  return static_cast<std::uint64_t>(status.st_size);
}

void chunk_file::write_at(std::uint64_t offset, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written =
        ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_errno("write");
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
    offset += static_cast<std::uint64_t>(written);
  }
}

std::string chunk_file::read_at(std::uint64_t offset, std::uint64_t size) const {
  std::string bytes(size, '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t read = ::pread(fd_, bytes.data() + got, bytes.size() - got,
                                 static_cast<off_t>(offset + got));
    if (read < 0) {
      if (errno == EINTR) continue;
      throw_errno("read");
    }
    if (read == 0) throw std::runtime_error("a history chunk is missing from the end of the file");
    got += static_cast<std::size_t>(read);
  }
  return bytes;
}

void chunk_file::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) throw_errno("truncate");
}

void chunk_file::sync() {
  if (::fdatasync(fd_) != 0) throw_errno("fdatasync");
}

}  // namespace chat::store::detail
