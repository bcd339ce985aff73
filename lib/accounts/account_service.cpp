#include "accounts/account_service.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include "accounts/detail/account_table.hpp"
#include "accounts/detail/password_hasher.hpp"
#include "accounts/detail/throttle.hpp"
#include "accounts/detail/worker_pool.hpp"
#include "protocol/names.hpp"

namespace chat::accounts {

namespace {

using detail::throttle;
using detail::worker_pool;

// Per throttle (names, addresses): past this many keys the one whose block
// ends first is forgotten (throttle::make_room). A flood of made-up names
// or addresses then costs at most a few MiB, and the keys it pushes out are
// those with the least penalty left; the alternative, refusing everyone new,
// would hand the flood a denial of service.
constexpr std::size_t max_throttled_keys = 100'000;

constexpr std::chrono::seconds min_busy_retry{1};
constexpr std::chrono::seconds max_busy_retry{60};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

result answer(status what) { return result{.what = what, .retry_after = {}, .detail = {}}; }

}  // namespace

// Threads and locks. The caller's thread only reads memory and queues;
// hashing, verifying and SQLite run on pool_'s threads.
//   map_mutex_      guards accounts_; held for a lookup or one change, never
//                   while hashing or writing, so is_registered() waits for
//                   neither.
//   db_mutex_       serialises the writes through table_, and makes "write
//                   the row, then change the map" one step for other writers.
//                   Taken before map_mutex_, never after.
//   throttle_mutex_ guards names_ and addresses_; taken alone.
struct account_service::state {
  state(options opts, std::function<void(std::string_view)> log_to)
      : options_(std::move(opts)),
        log_(log_to ? std::move(log_to) : [](std::string_view) {}),
        hasher_(options_.cost),
        table_(options_.dir / "accounts.sqlite3"),
        names_(options_.first_delay, options_.max_delay, max_throttled_keys),
        addresses_(options_.first_delay, options_.max_delay, max_throttled_keys),
        pool_(options_.threads, options_.max_queue, options_.max_wait, log_) {
    for (detail::stored_account& a : table_.load_all()) {
      accounts_.emplace(std::move(a.key), account{std::move(a.name), std::move(a.hash)});
    }
  }

  struct account {
    std::string name;  // as registered
    std::string hash;
  };

  // Refusals that cost no hash are answered at once, on the caller's thread:
  // they must not wait for the threads that are slow to come by exactly
  // when refusals are many (a login storm on a busy server).
  static void answer_now(done_handler done, result r) { done(std::move(r)); }

  // Busy, with a hint for when to try again: when the threads would likely
  // get to it, so that a storm of clients told to come back is spread over
  // the time the queue needs rather than all back in a second.
  static result busy(worker_pool::clock::duration expected_wait) {
    const auto hint = std::chrono::ceil<std::chrono::seconds>(expected_wait);
    return {.what = status::busy,
            .retry_after = std::clamp(hint, min_busy_retry, max_busy_retry),
            .detail = {}};
  }

  // Queues `work` for a pool thread, or answers busy when no thread would
  // get to it within max_wait.
  template <class Work>
  void submit(done_handler done, Work work) {
    // A copy of `done` goes into the job, so that a refused job (destroyed
    // uncalled) leaves this one to answer with.
    auto job = [this, done, work = std::move(work)](bool late) mutable {
      done(late ? busy(options_.max_wait) : run_safely(work));
    };
    const worker_pool::admission admitted = pool_.try_push(std::move(job));
    if (!admitted.queued) answer_now(std::move(done), busy(admitted.expected_wait));
  }

  template <class Work>
  result run_safely(Work& work) {
    try {
      return work();
    } catch (const std::exception& e) {
      log_(std::string("accounts: ") + e.what());
      return {.what = status::failed, .retry_after = {}, .detail = e.what()};
    }
  }

  bool registered(const std::string& key) const {
    std::shared_lock lock(map_mutex_);
    return accounts_.contains(key);
  }

  std::optional<std::string> hash_of(const std::string& key) const {
    std::shared_lock lock(map_mutex_);
    const auto found = accounts_.find(key);
    if (found == accounts_.end()) return std::nullopt;
    return found->second.hash;
  }

  // A throttled answer while the name or the address is blocked.
  std::optional<result> throttled(const std::string& key, const std::string& address) {
    const auto now = throttle::clock::now();
    std::lock_guard lock(throttle_mutex_);
    const auto wait = std::max(names_.blocked_for(key, now), addresses_.blocked_for(address, now));
    if (wait <= throttle::clock::duration::zero()) return std::nullopt;
    return result{.what = status::throttled,
                  .retry_after = std::chrono::ceil<std::chrono::seconds>(wait),
                  .detail = {}};
  }

  void failed(const std::string& key, const std::string& address) {
    const auto now = throttle::clock::now();
    std::lock_guard lock(throttle_mutex_);
    names_.failed(key, now);
    addresses_.failed(address, now);
  }

  void succeeded(const std::string& key) {
    std::lock_guard lock(throttle_mutex_);
    names_.succeeded(key);
  }

  // Verifies `password` for `key`, counting a failure against the name and
  // the address; checks the throttle again first, as failures may have come
  // in while this request waited. Names without an account are verified
  // against the dummy hash: the same time, the same answer.
  std::optional<result> check_password(const std::string& key, const std::string& password,
                                       const std::string& address,
                                       const std::optional<std::string>& hash) {
    if (auto refused = throttled(key, address)) return refused;
    const bool right = hash ? hasher_.verify(*hash, password) : hasher_.verify_none(password);
    if (!right) {
      failed(key, address);
      return answer(status::wrong_password);
    }
    succeeded(key);
    return std::nullopt;
  }

  result log_in(const std::string& key, const std::string& password, const std::string& address) {
    if (auto refused = check_password(key, password, address, hash_of(key))) return *refused;
    return answer(status::ok);
  }

  result create(const std::string& key, const std::string& name, const std::string& password) {
    const detail::stored_account row{
        .key = key, .name = name, .hash = hasher_.hash(password), .created_ms = now_ms()};
    std::lock_guard db(db_mutex_);
    // The row first: an account in memory is always one on disk.
    if (!table_.insert(row)) return answer(status::exists);
    std::unique_lock lock(map_mutex_);
    accounts_.insert_or_assign(key, account{row.name, row.hash});
    return answer(status::ok);
  }

  // Another request changed or removed the account between our reading its
  // hash and our writing: the password checked is no longer its password.
  result lost_race(const std::string& key) const {
    return answer(registered(key) ? status::wrong_password : status::no_account);
  }

  result change_password(const std::string& key, const std::string& old_password,
                         const std::string& new_password, const std::string& address) {
    const std::optional<std::string> old_hash = hash_of(key);
    if (!old_hash) return answer(status::no_account);
    if (auto refused = check_password(key, old_password, address, old_hash)) return *refused;
    const std::string new_hash = hasher_.hash(new_password);
    std::lock_guard db(db_mutex_);
    if (!table_.replace_hash(key, *old_hash, new_hash)) return lost_race(key);
    std::unique_lock lock(map_mutex_);
    if (const auto found = accounts_.find(key); found != accounts_.end()) {
      found->second.hash = new_hash;
    }
    return answer(status::ok);
  }

  result remove(const std::string& key, const std::string& password, const std::string& address) {
    const std::optional<std::string> hash = hash_of(key);
    if (!hash) return answer(status::no_account);
    if (auto refused = check_password(key, password, address, hash)) return *refused;
    std::lock_guard db(db_mutex_);
    if (!table_.erase(key, *hash)) return lost_race(key);
    std::unique_lock lock(map_mutex_);
    accounts_.erase(key);
    return answer(status::ok);
  }

  // Writes the moderation changes queued, in order; one drain at a time.
  void drain_moderation() {
    for (;;) {
      std::vector<moderation_change> batch;
      {
        std::lock_guard lock(moderation_mutex_);
        if (moderation_queue_.empty()) {
          moderation_draining_ = false;
          return;
        }
        batch.swap(moderation_queue_);
      }
      try {
        std::lock_guard db(db_mutex_);
        table_.apply_all(batch);
      } catch (const std::exception& e) {
        log_(std::string("moderation not saved: ") + e.what());
      }
    }
  }

  const options options_;
  const std::function<void(std::string_view)> log_;
  const detail::password_hasher hasher_;

  std::mutex db_mutex_;
  detail::account_table table_;

  mutable std::shared_mutex map_mutex_;
  // Folded name -> account: every row of table_, loaded at start.
  std::unordered_map<std::string, account> accounts_;

  // Moderation changes waiting for drain_moderation(), which one pool
  // thread runs at a time (so they are written in order).
  std::mutex moderation_mutex_;
  std::vector<moderation_change> moderation_queue_;
  bool moderation_draining_ = false;

  std::mutex throttle_mutex_;
  throttle names_;
  throttle addresses_;

  // Last: its threads use everything above, so it is stopped first.
  worker_pool pool_;
};

account_service::account_service(options opts, std::function<void(std::string_view)> log)
    : state_(std::make_unique<state>(std::move(opts), std::move(log))) {}

account_service::~account_service() {
  state_->pool_.stop();
  // Whatever was still queued: a ban given just before a stop outlives it.
  state_->drain_moderation();
}

std::vector<moderation_record> account_service::load_moderation() {
  std::lock_guard db(state_->db_mutex_);
  return state_->table_.load_moderation();
}

void account_service::save_moderation(moderation_change change) {
  state& s = *state_;
  {
    std::lock_guard lock(s.moderation_mutex_);
    s.moderation_queue_.push_back(std::move(change));
    if (s.moderation_draining_) return;
    s.moderation_draining_ = true;
  }
  s.pool_.push_task([&s] { s.drain_moderation(); });
}

bool account_service::is_registered(std::string_view name) const {
  return state_->registered(protocol::fold_name(name));
}

void account_service::log_in(std::string name, std::string password, std::string address,
                             done_handler done) {
  state& s = *state_;
  // Refusals that cost no hash are decided and answered here: a megabyte of
  // password, or a blocked name, never waits for (nor takes) a place in the
  // queue.
  if (password.size() > max_password_bytes) {
    return s.answer_now(std::move(done), answer(status::bad_password));
  }
  std::string key = protocol::fold_name(name);
  if (auto refused = s.throttled(key, address)) return s.answer_now(std::move(done), *refused);
  s.submit(std::move(done),
           [&s, key = std::move(key), password = std::move(password),
            address = std::move(address)] { return s.log_in(key, password, address); });
}

void account_service::create(std::string name, std::string password, done_handler done) {
  state& s = *state_;
  std::string key = protocol::fold_name(name);
  if (s.registered(key)) return s.answer_now(std::move(done), answer(status::exists));
  if (password.size() < min_password_bytes || password.size() > max_password_bytes) {
    return s.answer_now(std::move(done), answer(status::bad_password));
  }
  s.submit(std::move(done),
           [&s, key = std::move(key), name = std::move(name), password = std::move(password)] {
             return s.create(key, name, password);
           });
}

void account_service::change_password(std::string name, std::string old_password,
                                      std::string new_password, std::string address,
                                      done_handler done) {
  state& s = *state_;
  if (old_password.size() > max_password_bytes || new_password.size() < min_password_bytes ||
      new_password.size() > max_password_bytes) {
    return s.answer_now(std::move(done), answer(status::bad_password));
  }
  std::string key = protocol::fold_name(name);
  if (auto refused = s.throttled(key, address)) return s.answer_now(std::move(done), *refused);
  if (!s.registered(key)) return s.answer_now(std::move(done), answer(status::no_account));
  s.submit(std::move(done), [&s, key = std::move(key), old_password = std::move(old_password),
                             new_password = std::move(new_password), address = std::move(address)] {
    return s.change_password(key, old_password, new_password, address);
  });
}

void account_service::remove(std::string name, std::string password, std::string address,
                             done_handler done) {
  state& s = *state_;
  if (password.size() > max_password_bytes) {
    return s.answer_now(std::move(done), answer(status::bad_password));
  }
  std::string key = protocol::fold_name(name);
  if (auto refused = s.throttled(key, address)) return s.answer_now(std::move(done), *refused);
  if (!s.registered(key)) return s.answer_now(std::move(done), answer(status::no_account));
  s.submit(std::move(done),
           [&s, key = std::move(key), password = std::move(password),
            address = std::move(address)] { return s.remove(key, password, address); });
}

}  // namespace chat::accounts
