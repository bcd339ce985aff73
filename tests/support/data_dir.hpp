#pragma once

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

#include <unistd.h>

namespace chat::test {

// A fresh, empty directory for a server's --data-dir, removed with all it
// holds when the test ends, however it ends.
class data_dir {
public:
  data_dir() {
    static std::atomic<unsigned> made{0};
    // pid and a random part: ctest runs test processes side by side.
    const std::string name = "chat-integration-" + std::to_string(::getpid()) + "-" +
                             std::to_string(std::random_device{}()) + "-" + std::to_string(made++);
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::create_directories(path_);
  }

  ~data_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  data_dir(const data_dir&) = delete;
  data_dir& operator=(const data_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::string string() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

}  // namespace chat::test
