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

worker_pool::worker_pool(unsigned threads, std::size_t max_jobs,
                         std::function<void(std::string_view)> log)
    : max_jobs_(max_jobs), log_(std::move(log)) {
  try {
    for (unsigned i = 0; i < std::max(threads, 1u); ++i) threads_.emplace_back([this] { run(); });
  } catch (...) {
    stop();
    throw;
  }
}

worker_pool::~worker_pool() { stop(); }

bool worker_pool::try_push(task job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= max_jobs_) return false;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void worker_pool::push_answer(task answer) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    answers_.push_back(std::move(answer));
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
  // No thread is left: the waiting tasks (and the handlers they hold) are
  // destroyed here, uncalled.
  std::deque<task> jobs, answers;
  {
    std::lock_guard lock(mutex_);
    jobs.swap(jobs_);
    answers.swap(answers_);
  }
}

void worker_pool::run() {
  lower_priority(log_);
  for (;;) {
    task next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !answers_.empty() || !jobs_.empty(); });
      if (stopping_) return;
      std::deque<task>& from = answers_.empty() ? jobs_ : answers_;
      next = std::move(from.front());
      from.pop_front();
    }
    try {
      next();
    } catch (const std::exception& e) {
      if (log_) log_(std::string("accounts: a request failed: ") + e.what());
    } catch (...) {
      if (log_) log_("accounts: a request failed with an unknown exception");
    }
  }
}

}  // namespace chat::accounts::detail
