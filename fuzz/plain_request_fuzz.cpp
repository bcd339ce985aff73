// decode_plain_request on every frame a plain session may send: no crash,
// every request as request_rules.hpp wants it, and a line that is not a
// command is a message of exactly that text.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fuzz_input.hpp"
#include "protocol/request.hpp"
#include "request_rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chat;
  const std::string_view frame = fuzz::as_text(data, size);
  if (!fuzz::is_frame(frame)) return 0;
  const auto decoded = protocol::decode_plain_request(frame);
  fuzz::check_request(decoded);
  // "//text" escapes a message that starts with a slash.
  if (frame.starts_with('/') && !frame.starts_with("//")) return 0;
  const std::string_view text = frame.starts_with("//") ? frame.substr(1) : frame;
  if (const auto* request = std::get_if<protocol::any_request>(&decoded)) {
    const auto* message = std::get_if<protocol::request::message>(request);
    fuzz::require(message != nullptr && message->text == text, "a plain line is its message",
                  frame);
  } else {
    fuzz::require(!fuzz::is_chat_text(text) || text.empty(),
                  "only empty or control text is refused", frame);
  }
  return 0;
}
