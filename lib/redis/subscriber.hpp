#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "redis/address.hpp"
#include "redis/reconnecting.hpp"
#include "redis/connection.hpp"

namespace chat::redis {

struct subscriber_options {
  connection_options connection{};
  reconnect_options reconnect{};
  // A message with a longer payload is dropped and counted. The parser
  // refuses replies past twice this (plus room for the channel name), which
  // ends the connection (it reconnects and resubscribes): either way nothing
  // larger is held.
  std::size_t max_payload = std::size_t{1} << 20;
};

// Called on the subscriber's strand with each message of a subscribed channel.
using message_handler = std::function<void(std::string_view channel, std::string_view payload)>;

// A connection in subscribe mode, kept up like client's: the set of
// channels is subscribed again after every reconnect. Messages published
// while it was down are not seen (Redis pub/sub keeps nothing).
class subscriber : public std::enable_shared_from_this<subscriber> {
public:
  static std::shared_ptr<subscriber> create(asio::io_context& context, address where,
                                            subscriber_options options, message_handler on_message,
                                            state_handler on_state = {});
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;

  void start();
  void stop();

  // From any thread. Takes effect at once if up, and on every connect.
  void subscribe(std::string channel);
  void unsubscribe(std::string channel);

  bool is_up() const noexcept { return link_.is_up(); }
  // Messages dropped for their size.
  std::uint64_t dropped() const noexcept { return dropped_; }
  const executor& get_executor() const noexcept { return strand_; }

private:
  subscriber(asio::io_context& context, address where, subscriber_options options,
             message_handler on_message, state_handler on_state);
  asio::awaitable<void> keep_up(std::shared_ptr<subscriber> self);
  void on_push(reply&& value);
  void send(const char* verb, const std::string& channel);

  executor strand_;
  subscriber_options options_;
  message_handler on_message_;
  reconnecting link_;
  // What every new connection subscribes to.
  std::set<std::string> channels_;
  std::atomic<std::uint64_t> dropped_ = 0;
};

}  // namespace chat::redis
