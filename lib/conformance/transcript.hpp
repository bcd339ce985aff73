#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace chat::conformance {

// What a `receives` line expects of the next frame. The JSON pattern is kept
// as compact text so this header stays free of the JSON library; the parser
// has already checked that it parses.
struct frame_expectation {
  enum class kind { exact, starts_with, contains, json };
  kind how = kind::exact;
  std::string text;
};

// One operand of a `check`: a capture ($name, stored without the $) or a
// JSON number literal.
struct operand {
  bool is_capture = false;
  std::string text;
};

enum class relation { less, less_equal, greater, greater_equal, equal, not_equal };

namespace action {
struct connect {};
struct disconnect {};
struct send {
  std::string bytes;  // exactly what goes on the wire, LF included when the line asked for one
};
struct receive_frame {
  frame_expectation expected;
};
struct receive_nothing {};
struct receive_closed {};
// operands.size() == relations.size() + 1: `a < b <= c` holds when every adjacent pair does.
struct check {
  std::vector<operand> operands;
  std::vector<relation> relations;
};
struct set_timeout {
  std::chrono::milliseconds value;
};
struct set_quiet {
  std::chrono::milliseconds value;
};
}  // namespace action

using any_action =
    std::variant<action::connect, action::disconnect, action::send, action::receive_frame,
                 action::receive_nothing, action::receive_closed, action::check,
                 action::set_timeout, action::set_quiet>;

struct step {
  std::size_t line = 0;  // 1-based, for reports
  std::string source;    // the line as written, for reports
  std::string client;    // the connection it acts on; empty for check and set
  any_action what;
};

struct transcript {
  std::string name;  // usually the file path; prefixes every report
  std::vector<step> steps;
};

// A transcript that cannot be run as written. what() reads "NAME:LINE: reason",
// or "NAME: reason" when the file could not be read at all (line 0).
class transcript_error : public std::runtime_error {
public:
  transcript_error(const std::string& name, std::size_t line, const std::string& reason);
  std::size_t line() const noexcept { return line_; }
  const std::string& reason() const noexcept { return reason_; }

private:
  std::size_t line_;
  std::string reason_;
};

// Parses the format of protocol/conformance/README.md. Checks everything that
// can be checked before running: syntax, JSON patterns, that a connection is
// open when a step uses it, that a check names only captures bound earlier.
transcript parse_transcript(std::string_view text, std::string name);

// Reads and parses a file; an unreadable file is reported as line 0.
transcript load_transcript(const std::string& path);

}  // namespace chat::conformance
