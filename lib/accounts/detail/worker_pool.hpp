#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace chat::accounts::detail {

// The service's threads, below normal priority, and the jobs (each a hash or
// a verification) that wait for them.
//
// A job is queued only if a thread is likely to start it within max_wait:
// the wait is estimated from the jobs ahead and the wall time recent jobs
// took. Wall time, not CPU time, on purpose: when the I/O threads keep the
// CPU busy these threads get little of it, a hash takes seconds instead of
// a tenth, and the queue shrinks to what they can still get through. The
// rest is refused at once, with the estimate as a hint when to come back,
// instead of waiting in a queue it would never leave in time.
class worker_pool {
public:
  using clock = std::chrono::steady_clock;
  // Called on a pool thread with `late` false, or with `late` true when it
  // still waited past max_wait (the estimate was wrong): then it should only
  // refuse, as its client has likely given up by then, and hashing for
  // nobody would lengthen the wait of the jobs behind it.
  using job = std::function<void(bool late)>;
  using task = std::function<void()>;

  struct admission {
    bool queued = false;
    // How long a thread would take to start the job: refused, a hint for
    // when to try again.
    clock::duration expected_wait{};
  };

  // Starts `threads` threads (at least one). `log` gets a line for a job
  // that throws, and for a thread whose priority could not be lowered.
  worker_pool(unsigned threads, std::size_t max_jobs, clock::duration max_wait,
              std::function<void(std::string_view)> log);
  // stop().
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // Queues `work`, or drops it when max_jobs jobs are waiting already, when
  // it would likely wait past max_wait, or when the pool is stopping. Jobs
  // found waiting past max_wait are called late first, on this thread, so
  // that their refusal does not wait for a thread either.
  admission try_push(job work);
  // Runs `t` on a pool thread before any waiting job, never refused: for
  // work that must be done (writes) but is not a hash.
  void push_task(task t);

  // Lets the work running finish, joins the threads, and destroys what is
  // still waiting without running it. Idempotent.
  void stop() noexcept;

private:
  struct queued_job {
    job work;
    clock::time_point since;
  };

  void run(std::size_t index);
  // Under mutex_.
  clock::duration expected_wait(clock::time_point now) const;
  void ran_job(clock::duration took);
  // Calls `work`, logging what it throws.
  void run_logged(const std::function<void()>& work) noexcept;

  const std::size_t max_jobs_;
  const clock::duration max_wait_;
  std::function<void(std::string_view)> log_;
  std::mutex mutex_;
  // Signalled for everything pushed, and for stop().
  std::condition_variable wake_;
  std::deque<queued_job> jobs_;
  // Separate from jobs_ so that they neither wait for the hashes queued
  // before them nor count against max_jobs.
  std::deque<task> tasks_;
  // Per thread: when the job it runs began, or the epoch when it runs none.
  std::vector<clock::time_point> running_since_;
  // A moving average of the wall time of the jobs run (not of late ones);
  // zero until one has run, so the first jobs are always let in.
  clock::duration job_time_{};
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace chat::accounts::detail
