#pragma once

#include <string>
#include <string_view>

#include "accounts/account_service.hpp"

namespace chat::accounts::detail {

// argon2id through libsodium's crypto_pwhash_str: each hash string carries
// its salt and its cost, so one made at an older cost still verifies. Every
// call takes the full cost: run them on the service's threads only.
class password_hasher {
public:
  // Starts libsodium and makes the hash that stands in for a name without
  // an account (one hash's time). Throws std::runtime_error when libsodium
  // cannot start or refuses `cost`.
  explicit password_hasher(hash_cost cost);

  // A new hash of `password`, with a fresh salt; throws std::runtime_error
  // when libsodium cannot (out of memory).
  std::string hash(std::string_view password) const;

  // True when `password` is the one `hash` was made from.
  bool verify(const std::string& hash, std::string_view password) const;

  // The same work as verify() for a name that has no account, so that the
  // time taken does not tell the two apart. Always false.
  bool verify_none(std::string_view password) const;

private:
  hash_cost cost_;
  // A hash of a random password at cost_, made at start.
  std::string dummy_;
};

}  // namespace chat::accounts::detail
