// The deadlines of one io_context on one timer: they come due in order, a
// cancelled or moved one does not fire where it was, and a queue with
// nothing left in it does not keep run() from returning.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "server/deadline_queue.hpp"

using namespace std::chrono_literals;
using chat::server::deadline_holder;
using chat::server::deadline_queue;

namespace {

class named_deadline final : public deadline_holder {
public:
  named_deadline(std::string name, std::vector<std::string>& fired)
      : name_(std::move(name)), fired_(fired) {}

  void deadline_reached() override { fired_.push_back(name_); }

private:
  std::string name_;
  std::vector<std::string>& fired_;
};

}  // namespace

TEST_CASE("deadlines come due in order; cancelled and moved ones where they now are") {
  boost::asio::io_context context;
  auto& queue = boost::asio::use_service<deadline_queue>(context);
  std::vector<std::string> fired;
  named_deadline late("late", fired), early("early", fired), cancelled("cancelled", fired),
      moved("moved", fired), middle("middle", fired);
  const auto now = deadline_queue::clock::now();

  queue.schedule(late, now + 60ms);
  queue.schedule(cancelled, now + 10ms);
  queue.schedule(middle, now + 40ms);
  queue.schedule(moved, now + 5ms);
  queue.schedule(early, now + 20ms);
  queue.cancel(cancelled);
  queue.cancel(cancelled);  // twice is harmless
  queue.schedule(moved, now + 50ms);

  const auto started = std::chrono::steady_clock::now();
  context.run();
  CHECK(fired == std::vector<std::string>{"early", "middle", "moved", "late"});
  CHECK(std::chrono::steady_clock::now() - started >= 55ms);
}

TEST_CASE("a holder may schedule itself again from deadline_reached") {
  boost::asio::io_context context;
  auto& queue = boost::asio::use_service<deadline_queue>(context);

  class repeating final : public deadline_holder {
  public:
    explicit repeating(deadline_queue& q) : queue_(q) {}
    void deadline_reached() override {
      if (++count < 3) queue_.schedule(*this, deadline_queue::clock::now() + 1ms);
    }
    int count = 0;

  private:
    deadline_queue& queue_;
  } holder(queue);

  queue.schedule(holder, deadline_queue::clock::now() + 1ms);
  context.run();
  CHECK(holder.count == 3);
}

TEST_CASE("cancelling the last deadline lets run() return at once") {
  boost::asio::io_context context;
  auto& queue = boost::asio::use_service<deadline_queue>(context);
  std::vector<std::string> fired;
  named_deadline far("far", fired);
  queue.schedule(far, deadline_queue::clock::now() + 1h);
  queue.cancel(far);

  const auto started = std::chrono::steady_clock::now();
  context.run();
  CHECK(fired.empty());
  CHECK(std::chrono::steady_clock::now() - started < 10s);
}
