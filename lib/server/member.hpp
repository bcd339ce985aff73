#pragma once

#include <atomic>
#include <string>

#include "protocol/event.hpp"
#include "server/frame.hpp"

namespace chat::server {

// What the hub knows of a connected client. The hub never sees sockets, so
// other transports (TLS, WebSocket) plug in without touching it.
class hub;

class member {
public:
  member() = default;
  member(const member&) = delete;
  member& operator=(const member&) = delete;

  // Queues `f` for the client. Never blocks and may be called from any
  // thread; a client that cannot keep up is dropped, not waited for.
  virtual void deliver(frame f) = 0;

  // The hub gave this member's name to a new login of the same account and
  // removed it from every room; the client is to be told and closed. Any
  // thread; called outside the hub's lock.
  virtual void displaced() = 0;

  // A moderator put this member out of a room (a kick, a ban): its current
  // room may need a new choice. Any thread; outside the hub's lock.
  virtual void removed_from_room() {}
  // A server operator ended this session (kill, gban): the hub removed it
  // everywhere already; `last` is sent and the client closed. Any thread;
  // outside the hub's lock.
  virtual void dismissed(frame last) { deliver(std::move(last)); }

  const std::string& name() const noexcept { return name_; }
  // The client's IP address as text, fixed before the hub learns of the member.
  const std::string& address() const noexcept { return address_; }
  // Logged in to the account of its name: what operator power needs. Read
  // by the hub for members other than the one asking (a ban spares the
  // operators it covers).
  bool holds_account() const noexcept { return holds_account_.load(std::memory_order_relaxed); }
  protocol::session_mode mode() const noexcept { return mode_; }

protected:
  virtual ~member() = default;

  // Renames happen under the hub's lock, the only place others read names.
  friend class hub;

  // Set before the hub learns of the member; afterwards only the hub changes
  // the name (nick).
  std::string name_;
  protocol::session_mode mode_ = protocol::session_mode::plain;
  std::string address_;
  std::atomic<bool> holds_account_{false};
};

}  // namespace chat::server
