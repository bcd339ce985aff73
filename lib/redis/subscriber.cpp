#include "redis/subscriber.hpp"

#include <boost/asio/dispatch.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <vector>

namespace chat::redis {

std::shared_ptr<subscriber> subscriber::create(asio::io_context& context, address where,
                                               subscriber_options options,
                                               message_handler on_message, state_handler on_state) {
  return std::shared_ptr<subscriber>(new subscriber(context, std::move(where), options,
                                                    std::move(on_message), std::move(on_state)));
}

subscriber::subscriber(asio::io_context& context, address where, subscriber_options options,
                       message_handler on_message, state_handler on_state)
    : strand_(asio::make_strand(context)),
      options_(options),
      on_message_(std::move(on_message)),
      link_(strand_, std::move(where), options.reconnect, std::move(on_state)) {
  // Room for the payload twice over and the channel: a message just past
  // max_payload is dropped by on_push, not by the parser.
  options_.connection.limits.max_reply_bytes = 2 * options.max_payload + 64 * 1024;
}

void subscriber::start() { spawn_logged(strand_, keep_up(shared_from_this()), "redis subscriber"); }

void subscriber::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->link_.stop(); });
}

void subscriber::send(const char* verb, const std::string& channel) {
  if (connection* up = link_.up_connection()) {
    up->enqueue(connection::encode({verb, channel}), std::nullopt);
  }
}

void subscriber::subscribe(std::string channel) {
  asio::dispatch(strand_, [self = shared_from_this(), channel = std::move(channel)] {
    if (self->channels_.insert(channel).second) self->send("SUBSCRIBE", channel);
  });
}

void subscriber::unsubscribe(std::string channel) {
  asio::dispatch(strand_, [self = shared_from_this(), channel = std::move(channel)] {
    if (self->channels_.erase(channel) > 0) self->send("UNSUBSCRIBE", channel);
  });
}

void subscriber::on_push(reply&& value) {
  // ["message", channel, payload]; confirmations of (un)subscribing say nothing we need.
  const std::vector<reply>& parts = value.elements();
  if (parts.size() != 3 || parts[0].text() != "message") return;
  const std::string& payload = parts[2].text();
  if (payload.size() > options_.max_payload) {
    ++dropped_;
    return;
  }
  if (on_message_) on_message_(parts[1].text(), payload);
}

asio::awaitable<void> subscriber::keep_up(std::shared_ptr<subscriber> /*self: keeps it alive*/) {
  co_await link_.run(
      [this] {
        return std::make_shared<connection>(strand_, options_.connection,
                                            [this](reply&& value) { on_push(std::move(value)); });
      },
      // Every channel in one SUBSCRIBE, before the handshake's PING: when
      // that is answered, the subscriptions hold.
      [this] {
        if (channels_.empty()) return std::string();
        std::vector<std::string> words = {"SUBSCRIBE"};
        words.insert(words.end(), channels_.begin(), channels_.end());
        return connection::encode(words);
      });
}

}  // namespace chat::redis
