#include "redis/error.hpp"

#include <string>

namespace chat::redis {

namespace {

// Boost's error_category has a protected non-virtual destructor by design
// (categories are never deleted through it); -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::not_connected: return "Redis is not connected";
      case errc::connection_lost: return "the connection to Redis was lost";
      case errc::reply_timeout: return "Redis did not reply in time";
      case errc::protocol_error: return "Redis sent a reply that could not be read";
      case errc::connect_failed: return "could not connect to Redis";
      case errc::handshake_failed: return "Redis refused the connection's SELECT";
      case errc::queue_full: return "too many Redis commands waiting to be sent";
      case errc::closed: return "the Redis connection was closed";
    }
    return "unknown Redis error";
  }

protected:
  // Never destroyed (see error_category()), as error_category's own is protected.
  ~category() = default;
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  // Made once and kept to the end: codes may be compared during static destruction.
  static const category* const instance = new category;
  return *instance;
}

}  // namespace chat::redis
