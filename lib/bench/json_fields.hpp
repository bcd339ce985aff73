#pragma once

#include <string>
#include <string_view>

namespace chat::bench {

// The two fields of a JSON frame that chat-bench acts on. Views point into the
// frame and hold the string contents as sent, escapes included.
struct json_fields {
  std::string_view type;
  std::string_view text;
  bool has_type = false;
  bool has_text = false;
  bool type_escaped = false;
  bool text_escaped = false;
};

// Walks the tokens of one JSON object and picks out the top-level string
// fields "type" and "text", in any order and among any others (nested values
// are skipped whole, so a "text" inside them is not taken). Building a DOM per
// delivery would cost more than the server spends on the message. It checks
// structure, not every detail of JSON: false when the frame is not one object.
bool scan_json_fields(std::string_view frame, json_fields& out);

// The type of an envelope that starts `{"type":"` with a type free of
// escapes, as every frame of our server does, read without looking further;
// empty for a frame of another shape. Envelopes have unique keys, so the
// first "type" is the type.
std::string_view leading_type(std::string_view frame) noexcept;

// The same, falling back to a scan of the whole frame; empty when there is
// no plain string type.
std::string_view envelope_type(std::string_view frame);

// Decodes the contents of a JSON string (without its quotes) into `out`,
// \uXXXX escapes and surrogate pairs as UTF-8; false on a broken escape.
bool unescape_json_string(std::string_view raw, std::string& out);

}  // namespace chat::bench
