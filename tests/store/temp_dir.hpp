#pragma once

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

#include <unistd.h>

namespace chat::store::test {

// A fresh directory under the system temp directory, removed with everything
// in it when the test ends, however it ends.
class temp_dir {
public:
  temp_dir() {
    static std::atomic<unsigned> made{0};
    // pid and a random part: ctest runs test processes side by side.
    const std::string name = "chat-store-test-" + std::to_string(::getpid()) + "-" +
                             std::to_string(std::random_device{}()) + "-" + std::to_string(made++);
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::create_directories(path_);
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

}  // namespace chat::store::test
