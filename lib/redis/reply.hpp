#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::redis {

// The kinds of a RESP2 reply.
enum class reply_kind { nil, integer, status, bulk, error, array };

// One reply as Redis sent it, owning its text and its elements: the parser
// builds it, the connection hands it to whoever sent the command. An error
// reply (-ERR ...) is a value like any other, not an exception: only the
// caller knows whether WRONGTYPE is a failure.
class reply {
public:
  reply() = default;

  static reply nil() { return reply(); }
  static reply integer(std::int64_t value) {
    reply r(reply_kind::integer);
    r.integer_ = value;
    return r;
  }
  static reply status(std::string text) { return reply(reply_kind::status, std::move(text)); }
  static reply bulk(std::string text) { return reply(reply_kind::bulk, std::move(text)); }
  static reply error(std::string text) { return reply(reply_kind::error, std::move(text)); }
  static reply array(std::vector<reply> elements) {
    reply r(reply_kind::array);
    r.elements_ = std::move(elements);
    return r;
  }

  reply_kind kind() const noexcept { return kind_; }
  bool is_nil() const noexcept { return kind_ == reply_kind::nil; }
  bool is_integer() const noexcept { return kind_ == reply_kind::integer; }
  bool is_status() const noexcept { return kind_ == reply_kind::status; }
  bool is_bulk() const noexcept { return kind_ == reply_kind::bulk; }
  bool is_error() const noexcept { return kind_ == reply_kind::error; }
  bool is_array() const noexcept { return kind_ == reply_kind::array; }
  // A status or a bulk string: what GET, ECHO and OK have in common.
  bool is_string() const noexcept { return is_status() || is_bulk(); }

  // The value, or 0 unless is_integer().
  std::int64_t as_integer() const noexcept { return integer_; }
  // The text of a status, bulk string or error; empty for the other kinds.
  const std::string& text() const noexcept { return text_; }
  // The elements of an array; empty for the other kinds.
  const std::vector<reply>& elements() const noexcept { return elements_; }
  std::vector<reply>& elements() noexcept { return elements_; }

  // The text of a string reply, nothing for nil (GET of a missing key).
  // Other kinds are nothing too: use kind() where that matters.
  std::optional<std::string> as_optional_string() const {
    if (!is_string()) return std::nullopt;
    return text_;
  }
  // True for a status reply saying exactly `word` (OK, PONG, QUEUED).
  bool is_status(std::string_view word) const noexcept { return is_status() && text_ == word; }

  // Readable for logs and test failures: "nil", "42", "+OK", "\"bulk\"",
  // "-ERR ...", "[a, b]".
  std::string describe() const;

  friend bool operator==(const reply&, const reply&) = default;

private:
  explicit reply(reply_kind kind) : kind_(kind) {}
  reply(reply_kind kind, std::string text) : kind_(kind), text_(std::move(text)) {}

  reply_kind kind_ = reply_kind::nil;
  std::int64_t integer_ = 0;
  std::string text_;
  std::vector<reply> elements_;
};

}  // namespace chat::redis
