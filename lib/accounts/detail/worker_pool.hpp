#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace chat::accounts::detail {

// The service's threads, below normal priority, and what waits for them:
// jobs (each a hash or a verification) in a bounded queue, and answers that
// need no hashing (refusals), which go first and are never refused.
class worker_pool {
public:
  using task = std::function<void()>;

  // Starts `threads` threads (at least one). `log` gets a line for a task
  // that throws, and for a thread whose priority could not be lowered.
  worker_pool(unsigned threads, std::size_t max_jobs, std::function<void(std::string_view)> log);
  // stop().
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // False, dropping `job`, when max_jobs jobs are waiting already (or the
  // pool is stopping).
  bool try_push(task job);
  // Runs `answer` on a pool thread before any waiting job.
  void push_answer(task answer);

  // Lets the tasks running finish, joins the threads, and destroys the
  // tasks still waiting without running them. Idempotent.
  void stop() noexcept;

private:
  void run();

  std::size_t max_jobs_;
  std::function<void(std::string_view)> log_;
  std::mutex mutex_;
  // Signalled for every task pushed, and for stop().
  std::condition_variable wake_;
  std::deque<task> jobs_;
  // Separate from jobs_ so that a refusal does not wait for the hashes
  // queued before it, nor count against max_jobs.
  std::deque<task> answers_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace chat::accounts::detail
