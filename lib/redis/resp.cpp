#include "redis/resp.hpp"

#include <hiredis/read.h>

#include <string>

namespace chat::redis {

namespace {

// The parser whose reader is inside redisReaderGetReply on this thread. The
// object functions reach its limits through this rather than through
// privdata: hiredis 0.14 does not hand privdata to every task.
thread_local resp_parser::build_state* building = nullptr;

// Charges `bytes` to the reply being built; false (and the reason kept) past the limit.
bool charge(std::size_t bytes, const char* what) {
  resp_parser::build_state& state = *building;
  if (bytes > state.limits.max_reply_bytes ||
      state.reply_bytes > state.limits.max_reply_bytes - bytes) {
    state.refused = std::string("reply larger than ") +
                    std::to_string(state.limits.max_reply_bytes) + " bytes (" + what + ")";
    return false;
  }
  state.reply_bytes += bytes;
  return true;
}

// Puts `value` where hiredis will look for it: in its parent's slot, or on
// the heap as the root (which freeObject deletes, with its elements).
void* place(const redisReadTask* task, reply value) {
  if (task->parent != nullptr) {
    auto* parent = static_cast<reply*>(task->parent->obj);
    reply& slot = parent->elements()[static_cast<std::size_t>(task->idx)];
    slot = std::move(value);
    return &slot;
  }
  return new reply(std::move(value));
}

void* create_string(const redisReadTask* task, char* text, std::size_t length) {
  // The length is checked before the bytes are looked at: hiredis 0.14 lets a
  // declared length that overflows its arithmetic through to here.
  if (!charge(sizeof(reply) + length, "a string")) return nullptr;
  std::string value(text, length);
  switch (task->type) {
    case REDIS_REPLY_STATUS: return place(task, reply::status(std::move(value)));
    case REDIS_REPLY_ERROR: return place(task, reply::error(std::move(value)));
    default: return place(task, reply::bulk(std::move(value)));
  }
}

void* create_array(const redisReadTask* task, int elements) {
  resp_parser::build_state& state = *building;
  if (elements < 0 || static_cast<std::size_t>(elements) > state.limits.max_elements) {
    state.refused = "array of " + std::to_string(elements) + " elements (the most is " +
                    std::to_string(state.limits.max_elements) + ")";
    return nullptr;
  }
  const auto count = static_cast<std::size_t>(elements);
  if (!charge(sizeof(reply) * (count + 1), "an array")) return nullptr;
  return place(task, reply::array(std::vector<reply>(count)));
}

void* create_integer(const redisReadTask* task, long long value) {
  if (!charge(sizeof(reply), "an integer")) return nullptr;
  return place(task, reply::integer(value));
}

void* create_nil(const redisReadTask* task) {
  if (!charge(sizeof(reply), "a nil")) return nullptr;
  return place(task, reply::nil());
}

void free_object(void* object) { delete static_cast<reply*>(object); }

redisReplyObjectFunctions object_functions = {create_string, create_array, create_integer,
                                              create_nil, free_object};

redisReader* as_reader(void* reader) { return static_cast<redisReader*>(reader); }

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (std::string_view arg : args) {
    out += '$';
    out += std::to_string(arg.size());
    out += "\r\n";
    out += arg;
    out += "\r\n";
  }
}

std::string encode_command(std::span<const std::string_view> args) {
  std::string out;
  append_command(out, args);
  return out;
}

void resp_parser::reader_deleter::operator()(void* reader) const noexcept {
  redisReaderFree(as_reader(reader));
}

resp_parser::resp_parser(parser_limits limits)
    : build_{limits, 0, {}}, reader_(redisReaderCreateWithFunctions(&object_functions)) {
  if (!reader_) error_ = "out of memory creating the reply reader";
}

resp_parser::~resp_parser() = default;

std::size_t resp_parser::buffered() const noexcept {
  const redisReader* reader = as_reader(reader_.get());
  return reader == nullptr ? 0 : reader->len - reader->pos;
}

bool resp_parser::feed(std::string_view bytes) {
  if (failed()) return false;
  redisReader* reader = as_reader(reader_.get());
  if (redisReaderFeed(reader, bytes.data(), bytes.size()) != REDIS_OK) {
    error_ = "out of memory buffering a reply";
    return false;
  }
  for (;;) {
    void* object = nullptr;
    building = &build_;
    const int status = redisReaderGetReply(reader, &object);
    building = nullptr;
    if (status != REDIS_OK) {
      // A refusal shows through hiredis as "out of memory": say which limit it was.
      error_ = build_.refused.empty() ? std::string(reader->errstr) : build_.refused;
      if (error_.empty()) error_ = "protocol error";
      return false;
    }
    if (object == nullptr) break;
    std::unique_ptr<reply> taken(static_cast<reply*>(object));
    ready_.push_back(std::move(*taken));
    build_.reply_bytes = 0;
  }
  // What waits for the rest of a reply is held in the reader's buffer: bound it too.
  if (buffered() > build_.limits.max_reply_bytes) {
    error_ = "incomplete reply past " + std::to_string(build_.limits.max_reply_bytes) + " bytes";
    return false;
  }
  return true;
}

std::optional<reply> resp_parser::next() {
  if (ready_.empty()) return std::nullopt;
  reply taken = std::move(ready_.front());
  ready_.pop_front();
  return taken;
}

}  // namespace chat::redis
