#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/moderation_record.hpp"

namespace chat::accounts {

// Passwords are bytes: at most this many (refused before any hashing, so a
// huge one costs nothing), at least min_password_bytes when one is set.
inline constexpr std::size_t max_password_bytes = 1024;
inline constexpr std::size_t min_password_bytes = 8;

// argon2id's work per hash. The default is libsodium's "interactive" level:
// some tens of milliseconds and 64 MiB of memory per hash in flight.
struct hash_cost {
  std::uint64_t ops = 2;
  std::size_t memory = std::size_t{64} << 20;
};

enum class status {
  ok,
  // The password does not match, or the name has no account: the two are
  // never told apart, and cost the same time.
  wrong_password,
  // Too many failures for this name or address: try again after retry_after.
  throttled,
  // The hashing queue is full: try again after retry_after.
  busy,
  // create(): the name has an account already.
  exists,
  // change_password(), remove(): the name has no account (any more).
  no_account,
  // Shorter than min_password_bytes (a new password) or longer than
  // max_password_bytes (any).
  bad_password,
  // The store could not write; detail says why, and the log has it.
  failed,
};

struct result {
  status what = status::failed;
  std::chrono::seconds retry_after{0};  // throttled, busy
  std::string detail;                   // failed
};

// Called exactly once per request, unless the service is destroyed first:
// then it is destroyed without being called. Answers that need no hashing
// (bad_password, throttled, busy, exists, no_account) are decided at once
// and given on the caller's thread, before the request returns; the others
// on one of the service's threads. A handler that must run elsewhere posts.
using done_handler = std::function<void(result)>;

struct options {
  // Where accounts.sqlite3 is kept (the server's --data-dir).
  std::filesystem::path dir;
  hash_cost cost;
  // Threads that hash and verify, below normal priority, so that a login
  // storm takes the CPU the I/O threads leave over rather than theirs.
  unsigned threads = 2;
  // Requests waiting for a thread past which new ones are answered `busy`.
  std::size_t max_queue = 256;
  // A request the threads would likely not start within this time (judged
  // by how long recent ones took) is answered `busy` at once; one that waited
  // longer all the same is answered `busy` without being hashed.
  std::chrono::milliseconds max_wait{5'000};
  // After each failed login of a name or from an address, the next attempt
  // waits first_delay, doubled per further failure up to max_delay.
  std::chrono::seconds first_delay{1};
  std::chrono::seconds max_delay{300};
};

// Registered names with their argon2id hashes (libsodium's crypto_pwhash_str),
// kept in DIR/accounts.sqlite3 and in memory. Hashing, verifying and writing
// run on the service's own threads: nothing here blocks the caller except
// is_registered(), which only reads memory. Names are matched without regard
// to case (protocol::fold_name); the spelling registered is kept.
//
// Thread-safe.
class account_service {
public:
  // Opens or creates the database; throws std::runtime_error naming the file
  // and the reason when it cannot (or when libsodium refuses opts.cost).
  // Takes one hash's time: the stand-in hash for names without an account
  // is made here. `log` gets one line per problem, on the service's threads.
  account_service(options opts, std::function<void(std::string_view)> log);
  // Stops the threads: requests not yet answered are dropped (their handlers
  // destroyed uncalled); one a thread is working on is answered first.
  ~account_service();
  account_service(const account_service&) = delete;
  account_service& operator=(const account_service&) = delete;

  bool is_registered(std::string_view name) const;

  // Checks `password` against the account of `name`, throttled per name and
  // per `address` (the client's IP address as text).
  void log_in(std::string name, std::string password, std::string address, done_handler done);
  // Registers `name` with `password`.
  void create(std::string name, std::string password, done_handler done);
  // Replaces the password, given the current one (throttled like log_in).
  void change_password(std::string name, std::string old_password, std::string new_password,
                       std::string address, done_handler done);
  // Deletes the account, given its password (throttled like log_in).
  void remove(std::string name, std::string password, std::string address, done_handler done);

  // Moderation kept with the accounts: everything stored, read at start
  // (on the caller's thread; the server calls it before it listens).
  std::vector<moderation_record> load_moderation();
  // Keeps a change: queued, never blocking, and written on the service's
  // threads in the order given (a burst in one transaction). Changes still
  // queued when the service is destroyed are written by the destructor.
  void save_moderation(moderation_change change);

private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace chat::accounts
