#include "redis_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

namespace chat::test {

namespace {

const char* const redis_server = "/usr/bin/redis-server";

// A port nothing listens on now: bound to 0, read back, let go. Another
// process may take it before redis does; launch() then fails and we retry.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("binding port 0");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// One blocking PING with a short deadline: true if +PONG came back.
bool answers_ping(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval timeout{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const char ping[] = "*1\r\n$4\r\nPING\r\n";
    char answer[16] = {};
    if (::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == sizeof ping - 1) {
      const ssize_t got = ::recv(fd, answer, sizeof answer - 1, 0);
      ok = got >= 5 && std::string(answer, 5) == "+PONG";
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

redis_process::redis_process(bool append_only) : append_only_(append_only) {
  std::string pattern = (std::filesystem::temp_directory_path() / "chat-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
  dir_ = pattern;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    if (launch()) return;
  }
  std::filesystem::remove_all(dir_);
  throw std::runtime_error("redis-server did not start on a free port (5 tries)");
}

redis_process::~redis_process() {
  if (process_ && paused_) process_->send_signal(SIGCONT);
  process_.reset();  // SIGKILL if still running
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string redis_process::url(int db) const {
  std::string out = "redis://127.0.0.1:" + std::to_string(port_);
  if (db != 0) out += "/" + std::to_string(db);
  return out;
}

bool redis_process::launch() {
  const std::vector<std::string> args = {
      "--port",       std::to_string(port_),
      "--bind",       "127.0.0.1",
      "--save",       "",
      "--appendonly", append_only_ ? "yes" : "no",
      "--dir",        dir_.string(),
      "--logfile",    (dir_ / "redis.log").string(),
  };
  process_ = std::make_unique<child_process>(redis_server, args);
  paused_ = false;
  const auto deadline = std::chrono::steady_clock::now() + default_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (answers_ping(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  process_.reset();
  return false;
}

void redis_process::stop() {
  if (!process_) return;
  if (paused_) resume();
  process_->send_signal(SIGTERM);
  process_->wait();
  process_.reset();
}

void redis_process::start() {
  if (process_) return;
  if (!launch()) {
    throw std::runtime_error("redis-server did not start again on port " + std::to_string(port_));
  }
}

void redis_process::pause() {
  process_->send_signal(SIGSTOP);
  paused_ = true;
}

void redis_process::resume() {
  process_->send_signal(SIGCONT);
  paused_ = false;
}

}  // namespace chat::test
