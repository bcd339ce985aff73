#include "support/cut_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace chat::test {

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::system_category(), what);
}

// Writes all of it; false when the peer is gone.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::send(fd, data, size, MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

}  // namespace

cut_proxy::cut_proxy(std::uint16_t upstream_port) : upstream_port_(upstream_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ == -1) fail("socket");
  sockaddr_in address = loopback(0);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind");
  if (::listen(listener_, 16) != 0) fail("listen");
  socklen_t length = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

cut_proxy::~cut_proxy() {
  stopping_ = true;
  acceptor_.join();
  cut();
  for (auto& t : relays_) t.join();
  ::close(listener_);
}

void cut_proxy::cut() {
  const std::lock_guard lock(mutex_);
  // shutdown() wakes the relay thread's poll; it closes the descriptors.
  for (const pair& p : pairs_) {
    ::shutdown(p.client, SHUT_RDWR);
    ::shutdown(p.server, SHUT_RDWR);
  }
}

void cut_proxy::accept_loop() {
  while (!stopping_) {
    pollfd ready{listener_, POLLIN, 0};
    if (::poll(&ready, 1, 50) <= 0) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client == -1) continue;
    if (refusing_) {
      ::close(client);
      continue;
    }
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = loopback(upstream_port_);
    if (server == -1 ||
        ::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(client);
      if (server != -1) ::close(server);
      continue;
    }
    const std::lock_guard lock(mutex_);
    pairs_.push_back({client, server});
    relays_.emplace_back([this, p = pair{client, server}] { relay(p); });
  }
}

void cut_proxy::relay(pair p) {
  char buffer[16 * 1024];
  for (;;) {
    pollfd fds[2] = {{p.client, POLLIN, 0}, {p.server, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    bool open = true;
    for (int i = 0; i < 2 && open; ++i) {
      if (fds[i].revents == 0) continue;
      const int from = i == 0 ? p.client : p.server;
      const int to = i == 0 ? p.server : p.client;
      const ssize_t count = ::recv(from, buffer, sizeof buffer, 0);
      open = count > 0 && write_all(to, buffer, static_cast<std::size_t>(count));
    }
    if (!open) break;
  }
  // Either side gone: both go, as a cut cable would have it. Out of the
  // list first, so that cut() never touches a descriptor number reused.
  {
    const std::lock_guard lock(mutex_);
    std::erase_if(pairs_, [&](const pair& q) { return q.client == p.client; });
  }
  ::shutdown(p.client, SHUT_RDWR);
  ::shutdown(p.server, SHUT_RDWR);
  ::close(p.client);
  ::close(p.server);
}

}  // namespace chat::test
