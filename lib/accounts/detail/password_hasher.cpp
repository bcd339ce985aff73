#include "accounts/detail/password_hasher.hpp"

#include <stdexcept>

#include <sodium.h>

namespace chat::accounts::detail {

password_hasher::password_hasher(hash_cost cost) : cost_(cost) {
  // Thread-safe and idempotent: a second service, or another user of
  // libsodium in the process, is no problem.
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not start (sodium_init)");
  if (cost.ops < crypto_pwhash_OPSLIMIT_MIN || cost.ops > crypto_pwhash_OPSLIMIT_MAX ||
      cost.memory < crypto_pwhash_MEMLIMIT_MIN || cost.memory > crypto_pwhash_MEMLIMIT_MAX) {
    throw std::runtime_error("argon2id refuses the cost of " + std::to_string(cost.ops) +
                             " passes over " + std::to_string(cost.memory) + " bytes");
  }
  unsigned char random[32];
  randombytes_buf(random, sizeof random);
  dummy_ = hash(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
}

std::string password_hasher::hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost_.ops, cost_.memory,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id could not hash: out of memory");
  }
  return out;
}

bool password_hasher::verify(const std::string& hash, std::string_view password) const {
  // A hash string that is not libsodium's (a damaged row) fails like a wrong
  // password; it cannot read past the string's end, which is NUL-terminated.
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool password_hasher::verify_none(std::string_view password) const {
  verify(dummy_, password);
  return false;
}

}  // namespace chat::accounts::detail
