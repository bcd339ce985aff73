#include "redis/reply.hpp"

namespace chat::redis {

std::string reply::describe() const {
  switch (kind_) {
    case reply_kind::nil: return "nil";
    case reply_kind::integer: return std::to_string(integer_);
    case reply_kind::status: return "+" + text_;
    case reply_kind::bulk: return "\"" + text_ + "\"";
    case reply_kind::error: return "-" + text_;
    case reply_kind::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements_.size(); ++i) {
        if (i > 0) out += ", ";
        out += elements_[i].describe();
      }
      return out + "]";
    }
  }
  return "?";
}

}  // namespace chat::redis
