#include "redis/subscriber.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>

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
      where_(std::move(where)),
      options_(options),
      on_message_(std::move(on_message)),
      on_state_(std::move(on_state)),
      backoff_timer_(strand_),
      jitter_(std::random_device{}()) {
  // Room for the payload twice over and the channel: a message just past
  // max_payload is dropped by on_push, not by the parser.
  options_.connection.limits.max_reply_bytes = 2 * options.max_payload + 64 * 1024;
}

void subscriber::start() {
  asio::co_spawn(strand_, keep_up(shared_from_this()), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "redis subscriber: %s\n", e.what());
    }
  });
}

void subscriber::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->stopping_ = true;
    self->backoff_timer_.cancel();
    if (self->current_) self->current_->close();
  });
}

void subscriber::send(const char* verb, const std::string& channel) {
  if (current_ && current_->is_up()) {
    current_->enqueue(connection::encode({verb, channel}), std::nullopt);
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
  auto backoff = options_.reconnect.initial_backoff;
  while (!stopping_) {
    current_ = std::make_shared<connection>(strand_, options_.connection,
                                            [this](reply&& value) { on_push(std::move(value)); });
    // Every channel in one SUBSCRIBE, before the handshake's PING: when
    // that is answered, the subscriptions hold.
    std::string greeting;
    if (!channels_.empty()) {
      std::vector<std::string> words = {"SUBSCRIBE"};
      words.insert(words.end(), channels_.begin(), channels_.end());
      greeting = connection::encode(words);
    }
    bool was_up = false;
    std::function<void()> on_up = [this, &was_up, &backoff] {
      was_up = true;
      up_ = true;
      backoff = options_.reconnect.initial_backoff;
      if (on_state_) on_state_(true);
    };
    co_await current_->run(where_, std::move(on_up), std::move(greeting));
    current_.reset();
    if (was_up) {
      up_ = false;
      if (on_state_) on_state_(false);
    }
    if (stopping_) break;
    backoff_timer_.expires_after(jittered(backoff, jitter_));
    boost::system::error_code ignored;
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    backoff = std::min(backoff * 2, options_.reconnect.max_backoff);
  }
}

}  // namespace chat::redis
