// decode_hello on every first frame a client may send: no crash, and a
// hello that decodes names a valid user (exactly the frame in plain form)
// and at most max_resume_rooms normalised rooms (none in plain form).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fuzz_input.hpp"
#include "protocol/names.hpp"
#include "protocol/request.hpp"
#include "request_rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chat;
  using fuzz::require;
  const std::string_view frame = fuzz::as_text(data, size);
  if (!fuzz::is_frame(frame)) return 0;
  const auto decoded = protocol::decode_hello(frame);
  if (const auto* error = std::get_if<protocol::decode_error>(&decoded)) {
    require(protocol::is_valid_utf8(error->message), "an error's message is UTF-8", frame);
    return 0;
  }
  const auto& hello = std::get<protocol::hello>(decoded);
  require(protocol::is_valid_name(hello.user), "a hello names a valid user", frame);
  require(hello.json == frame.starts_with('{'), "JSON exactly when it is an object", frame);
  if (!hello.json) require(hello.user == frame, "a plain hello is the name", frame);
  require(hello.json || hello.resume.empty(), "only JSON resumes", frame);
  require(hello.resume.size() <= protocol::max_resume_rooms, "a bounded resume", frame);
  for (const auto& resume : hello.resume) {
    require(!resume.room.empty() && fuzz::is_room_or_current(resume.room),
            "resumed rooms are normalised", frame);
  }
  return 0;
}
