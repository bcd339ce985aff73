#include "server/session_registry.hpp"

#include <vector>

#include "server/conversation.hpp"

namespace chat::server {

session_registry::session_registry(std::size_t max_clients, std::size_t max_per_address)
    : max_clients_(max_clients), max_per_address_(max_per_address) {}

session_registry::admission session_registry::admit(const boost::asio::ip::address& address) {
  std::lock_guard lock(mutex_);
  if (admitted_ >= max_clients_) return admission::server_full;
  std::size_t& from_address = per_address_[address];
  if (max_per_address_ != 0 && from_address >= max_per_address_) {
    return admission::too_many_from_address;
  }
  ++from_address;
  ++admitted_;
  return admission::admitted;
}

void session_registry::add(const std::shared_ptr<conversation>& s,
                           const boost::asio::ip::address& address) {
  std::lock_guard lock(mutex_);
  sessions_.emplace(s.get(), entry{s, address});
}

void session_registry::abandon(const boost::asio::ip::address& address) {
  std::lock_guard lock(mutex_);
  release(address);
}

void session_registry::remove(const conversation* s) {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(s);
  if (it == sessions_.end()) return;
  release(it->second.address);
  sessions_.erase(it);
}

void session_registry::release(const boost::asio::ip::address& address) {
  const auto count = per_address_.find(address);
  if (count != per_address_.end() && --count->second == 0) per_address_.erase(count);
  --admitted_;
}

template <class Pick>
std::vector<std::shared_ptr<conversation>> session_registry::live(Pick&& pick) {
  std::vector<std::shared_ptr<conversation>> chosen;
  std::lock_guard lock(mutex_);
  for (auto& [key, e] : sessions_) {
    if (!pick(e)) continue;
    if (auto s = e.connection.lock()) chosen.push_back(std::move(s));
  }
  return chosen;
}

void session_registry::shutdown_all() {
  for (const auto& s : live([](entry&) { return true; })) s->shutdown();
}

void session_registry::warn_all() {
  for (const auto& s : live([](entry&) { return true; })) s->warn_of_shutdown();
}

void session_registry::shutdown_some(std::size_t count) {
  std::size_t picked = 0;
  const auto chosen = live([&](entry& e) {
    if (e.shut_down || picked == count) return false;
    e.shut_down = true;
    ++picked;
    return true;
  });
  for (const auto& s : chosen) s->shutdown();
}

std::size_t session_registry::still_open() {
  std::lock_guard lock(mutex_);
  std::size_t open = 0;
  for (const auto& [key, e] : sessions_) open += e.shut_down ? 0 : 1;
  return open;
}

}  // namespace chat::server
