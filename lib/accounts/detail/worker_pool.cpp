#include "accounts/detail/worker_pool.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include <sys/resource.h>
#include <unistd.h>

namespace chat::accounts::detail {

namespace {

// Nice 19, the lowest: a login storm hashes with the CPU the I/O threads
// leave over. At nice 10 two hashing threads beside one busy I/O thread on
// a core still took a fifth of it (delivery fell to 0.79x with 200 logins/s
// arriving); at 19 they take about 3%, and all of an idle core.
constexpr int worker_nice = 19;

// On Linux a nice value belongs to a thread, not to the process (POSIX says
// process, but each thread is a task of its own and PRIO_PROCESS with a
// thread id sets that task alone), so this lowers the calling thread only
// and leaves the I/O threads at theirs. Never raises it: an unprivileged
// process cannot, and a server started with `nice` already runs lower.
void lower_priority(const std::function<void(std::string_view)>& log) {
  const auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return;
  if (current >= worker_nice) return;
  if (::setpriority(PRIO_PROCESS, tid, worker_nice) != 0 && log) {
    log("accounts: a hashing thread keeps its priority (setpriority: " +
        std::generic_category().message(errno) + ")");
  }
}

}  // namespace

worker_pool::worker_pool(unsigned threads, std::size_t max_jobs, clock::duration max_wait,
                         std::function<void(std::string_view)> log)
    : max_jobs_(max_jobs),
      max_wait_(max_wait),
      log_(std::move(log)),
      running_since_(std::max(threads, 1u)) {
  try {
    for (std::size_t i = 0; i < running_since_.size(); ++i) {
      threads_.emplace_back([this, i] { run(i); });
    }
  } catch (...) {
    stop();
    throw;
  }
}

worker_pool::~worker_pool() { stop(); }

worker_pool::clock::duration worker_pool::expected_wait(clock::time_point now) const {
  std::size_t running = 0;
  clock::duration longest{};
  for (const clock::time_point since : running_since_) {
    if (since == clock::time_point{}) continue;
    ++running;
    longest = std::max(longest, now - since);
  }
  const std::size_t threads = running_since_.size();
  if (running + jobs_.size() < threads) return clock::duration::zero();
  // The average learns of a slowdown only as jobs finish; a job still
  // running after longer than it says already that jobs take that long now.
  // Without this, the start of a storm on a busy CPU lets in a queue's worth
  // of jobs timed on an idle one, which then all wait past max_wait.
  const clock::duration job_time = std::max(job_time_, longest);
  // Every thread is busy: this job starts after the ones waiting and one
  // more have finished, and they finish `threads` at a time.
  const auto ahead = static_cast<clock::rep>(jobs_.size() + 1);
  return job_time * ahead / static_cast<clock::rep>(threads);
}

void worker_pool::ran_job(clock::duration took) {
  // An average over the last eight or so: quick to follow a change in load.
  job_time_ = job_time_ == clock::duration::zero() ? took : job_time_ + (took - job_time_) / 8;
}

worker_pool::admission worker_pool::try_push(job work) {
  std::vector<job> late;
  admission admitted;
  const auto now = clock::now();
  {
    std::lock_guard lock(mutex_);
    while (!jobs_.empty() && now - jobs_.front().since > max_wait_) {
      late.push_back(std::move(jobs_.front().work));
      jobs_.pop_front();
    }
    admitted.expected_wait = expected_wait(now);
    admitted.queued = !stopping_ && jobs_.size() < max_jobs_ && admitted.expected_wait <= max_wait_;
    if (admitted.queued) {
      jobs_.push_back({std::move(work), now});
      admitted.expected_wait = {};
    }
  }
  if (admitted.queued) wake_.notify_one();
  for (job& j : late) run_logged([&j] { j(true); });
  return admitted;
}

void worker_pool::push_task(task t) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    tasks_.push_back(std::move(t));
  }
  wake_.notify_one();
}

void worker_pool::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  // No thread is left: what still waits (and the handlers it holds) is
  // destroyed here, uncalled.
  std::deque<queued_job> jobs;
  std::deque<task> tasks;
  {
    std::lock_guard lock(mutex_);
    jobs.swap(jobs_);
    tasks.swap(tasks_);
  }
}

void worker_pool::run_logged(const std::function<void()>& work) noexcept {
  try {
    work();
  } catch (const std::exception& e) {
    if (log_) log_(std::string("accounts: a request failed: ") + e.what());
  } catch (...) {
    if (log_) log_("accounts: a request failed with an unknown exception");
  }
}

void worker_pool::run(std::size_t index) {
  lower_priority(log_);
  for (;;) {
    task next_task;
    queued_job next_job;
    clock::time_point started;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty() || !jobs_.empty(); });
      if (stopping_) return;
      started = clock::now();
      if (!tasks_.empty()) {
        next_task = std::move(tasks_.front());
        tasks_.pop_front();
      } else {
        next_job = std::move(jobs_.front());
        jobs_.pop_front();
        running_since_[index] = started;
      }
    }
    if (next_task) {
      run_logged(next_task);
      continue;
    }
    const bool late = started - next_job.since > max_wait_;
    run_logged([&] { next_job.work(late); });
    std::lock_guard lock(mutex_);
    running_since_[index] = {};
    if (!late) ran_job(clock::now() - started);
  }
}

}  // namespace chat::accounts::detail
