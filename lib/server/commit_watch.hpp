#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/execution_context.hpp>

namespace boost::asio {
class io_context;
}

namespace chat::server {

class session;

// What the history writer settled with one batch (group commit).
struct commit_news {
  // Every id handed out up to this one is settled.
  std::uint64_t through;
  // False when the batch could not be written.
  bool stored;
  // The writer is still too far behind for senders to go on.
  bool backlogged;
};

// The sessions of one io_context that wait on the history writer: for the
// acks of their messages, which go out once stored, or, paused, for the
// writer to catch up. One per io_context, as an Asio service, like
// deadline_queue: the writer's news reaches each thread as one post per
// batch, not one per session, and only sessions with something unsettled
// are visited.
class commit_watch : public boost::asio::execution_context::service {
public:
  using key_type = commit_watch;
  static inline boost::asio::execution_context::id id;

  explicit commit_watch(boost::asio::io_context& context);

  // On the context's thread: `s` hears of every batch settled from now on
  // until its on_commit() returns false.
  void watch(std::shared_ptr<session> s);

  // From the writer's thread: hands the news to each context's watch.
  static void publish(std::span<boost::asio::io_context* const> contexts, commit_news news);

private:
  void settled(const commit_news& news);
  void shutdown() override;

  std::vector<std::shared_ptr<session>> watching_;
  // Reused by settled(): sessions may start watching while it runs.
  std::vector<std::shared_ptr<session>> visiting_;
};

}  // namespace chat::server
