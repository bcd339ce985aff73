#include "server/commit_watch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "server/session.hpp"

namespace chat::server {

namespace asio = boost::asio;

commit_watch::commit_watch(asio::io_context& context) : asio::execution_context::service(context) {}

void commit_watch::watch(std::shared_ptr<session> s) { watching_.push_back(std::move(s)); }

void commit_watch::publish(std::span<asio::io_context* const> contexts, commit_news news) {
  for (asio::io_context* context : contexts) {
    asio::post(*context,
               [context, news] { asio::use_service<commit_watch>(*context).settled(news); });
  }
}

void commit_watch::settled(const commit_news& news) {
  if (watching_.empty()) return;
  visiting_.swap(watching_);
  for (auto& s : visiting_) {
    if (s->commit_settled(news)) watching_.push_back(std::move(s));
  }
  visiting_.clear();
}

void commit_watch::shutdown() {
  watching_.clear();
  visiting_.clear();
}

}  // namespace chat::server
