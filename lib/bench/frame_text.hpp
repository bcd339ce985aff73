#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chat::bench {

// What a frame from the server is to a receiver.
enum class frame_kind {
  message,    // someone's message: text is set
  error,      // an error the server reported to this client
  ack,        // JSON: the server took a message of this client's: ref is set
  control,    // prompt, welcome, join, leave, users, shutdown...
  malformed,  // not a frame the protocol has
};

struct classified_frame {
  frame_kind kind = frame_kind::malformed;
  std::string_view text;
  std::uint64_t ref = 0;  // ack: the message's ref, chat-bench's sequence number
};

// Plain sessions: "from: text" is a message (names cannot hold ':'), "! ..."
// an error, "* ..." and USER control lines.
classified_frame classify_plain_frame(std::string_view frame) noexcept;

// JSON sessions: {"type":"msg",...,"text":...} is a message, and
// {"type":"ack","ref":N,...} with an unsigned integer ref an ack (any other
// ref is no ref of chat-bench's: malformed). A text with
// escapes is decoded into `scratch`, which the returned view may then point
// into; kept by the caller so that the common case allocates nothing.
classified_frame classify_json_frame(std::string_view frame, std::string& scratch);

}  // namespace chat::bench
