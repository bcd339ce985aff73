#pragma once

#include <string>
#include <string_view>

namespace chat::conformance {

// Bytes as a person can read them in a report: printable UTF-8 as it is,
// anything else as `bytes "…"` in the transcript escape syntax, so an
// unexpected frame can be pasted back into a transcript.
std::string display(std::string_view bytes);

// A double-quoted string in the transcript escape syntax.
std::string quote(std::string_view bytes);

// Always the `bytes "…"` form: for raw input, where an LF or its absence matters.
std::string escaped(std::string_view bytes);

}  // namespace chat::conformance
