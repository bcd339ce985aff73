#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "redis/reply.hpp"

// RESP2 without I/O: commands to bytes, bytes to replies. The connection,
// the subscriber, the tests and the fuzz target all go through it.
namespace chat::redis {

// Appends `args` as one command (an array of bulk strings) to `out`, so
// that a writer can coalesce many commands into one buffer.
void append_command(std::string& out, std::span<const std::string_view> args);
std::string encode_command(std::span<const std::string_view> args);

// What one reply may cost. A broken or hostile server must not make us
// allocate without bound: a reply past these is a protocol error.
struct parser_limits {
  // Bytes of one reply: its strings, plus a reply object per element. Also
  // the most input held while a reply is incomplete (plus what one feed adds).
  std::size_t max_reply_bytes = std::size_t{64} << 20;
  // Elements of one array.
  std::size_t max_elements = 1 << 20;
};

// Turns the bytes of a stream of replies, fed in pieces of any size, into
// replies, with hiredis's redisReader doing the reading. After an error it
// takes nothing more: the stream cannot be resynchronised, the connection
// must go.
class resp_parser {
public:
  explicit resp_parser(parser_limits limits = {});
  ~resp_parser();
  resp_parser(const resp_parser&) = delete;
  resp_parser& operator=(const resp_parser&) = delete;

  // Reads `bytes`; every reply they complete becomes available to next().
  // False on a protocol error or a reply over the limits (then error()).
  bool feed(std::string_view bytes);

  // The oldest complete reply not yet taken.
  std::optional<reply> next();

  bool failed() const noexcept { return !error_.empty(); }
  // Why feed() failed: hiredis's words, or which limit was passed.
  const std::string& error() const noexcept { return error_; }
  // Input held for a reply not yet complete.
  std::size_t buffered() const noexcept;

  // What the reader's object functions need: the limits, and the cost of the
  // reply being built so far.
  struct build_state {
    parser_limits limits;
    std::size_t reply_bytes = 0;
    std::string refused;  // set by an object function that refused
  };

private:
  struct reader_deleter {
    void operator()(void* reader) const noexcept;
  };

  build_state build_;
  // A redisReader, typed void so that hiredis's header stays in resp.cpp.
  std::unique_ptr<void, reader_deleter> reader_;
  // Replies complete and not yet taken, oldest first.
  std::deque<reply> ready_;
  std::string error_;
};

}  // namespace chat::redis
