#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace chat::test {

// A regular file under /tmp holding `content`, removed with the object: a
// client's input, a password file.
class temp_file {
public:
  explicit temp_file(std::string_view content) {
    char name[] = "/tmp/chat-test-file-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd != -1);
    path_ = name;
    const auto written = ::write(fd, content.data(), content.size());
    ::close(fd);
    REQUIRE(written == static_cast<ssize_t>(content.size()));
  }
  ~temp_file() { std::remove(path_.c_str()); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

}  // namespace chat::test
