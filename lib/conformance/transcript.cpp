#include "conformance/transcript.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>

#include "conformance/match.hpp"

namespace chat::conformance {

namespace {

using json = nlohmann::json;
using name_set = std::set<std::string, std::less<>>;

// Why the line being parsed is malformed; parse_transcript adds name and line.
struct bad_line {
  std::string reason;
};

// A repeated line must still fit comfortably in memory; no server's limit
// is anywhere near this.
constexpr std::size_t max_repeated_bytes = 64 << 20;

constexpr std::string_view blanks = " \t\r";

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(blanks);
  return text.substr(first, last - first + 1);
}

// Takes the next blank-separated word off the front of `rest`.
std::string_view take_word(std::string_view& rest) {
  const auto end = std::min(rest.find_first_of(blanks), rest.size());
  const std::string_view word = rest.substr(0, end);
  rest = trim(rest.substr(end));
  return word;
}

// Takes `keyword` off the front of `rest` when it is there as a whole word.
bool take_keyword(std::string_view& rest, std::string_view keyword) {
  if (!rest.starts_with(keyword)) return false;
  const std::string_view after = rest.substr(keyword.size());
  if (!after.empty() && blanks.find(after.front()) == std::string_view::npos) return false;
  rest = trim(after);
  return true;
}

bool is_identifier(std::string_view text) {
  if (text.empty()) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!letter(text.front())) return false;
  for (const char c : text) {
    if (!letter(c) && !digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes a double-quoted string with \\ \" \n \r \t \0 \xHH escapes, which
// must be the last thing on the line. Bytes need not be valid UTF-8: sending
// broken input is the point of some transcripts.
std::string take_final_quoted(std::string_view rest) {
  if (rest.empty() || rest.front() != '"') throw bad_line{"expected a double-quoted string"};
  std::string out;
  std::size_t i = 1;
  for (;; ++i) {
    if (i >= rest.size()) throw bad_line{"the quoted string has no closing quote"};
    const char c = rest[i];
    if (c == '"') break;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= rest.size()) throw bad_line{"the quoted string ends in a lone backslash"};
    switch (rest[i]) {
      case '\\': out.push_back('\\'); break;
      case '"': out.push_back('"'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case '0': out.push_back('\0'); break;
      case 'x': {
        const int high = i + 1 < rest.size() ? hex_value(rest[i + 1]) : -1;
        const int low = i + 2 < rest.size() ? hex_value(rest[i + 2]) : -1;
        if (high < 0 || low < 0) throw bad_line{"\\x needs two hex digits"};
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        break;
      }
      default:
        throw bad_line{std::string("unknown escape \\") + rest[i] +
                       R"( (use \\ \" \n \r \t \0 or \xHH))"};
    }
  }
  if (!trim(rest.substr(i + 1)).empty()) throw bad_line{"unexpected text after the closing quote"};
  return out;
}

std::size_t take_count(std::string_view& rest) {
  const std::string_view word = take_word(rest);
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (word.empty() || ec != std::errc{} || end != word.data() + word.size() || value == 0) {
    throw bad_line{"expected a positive count, got \"" + std::string(word) + "\""};
  }
  return value;
}

// "200 ms", "200ms", "3 s", "3s".
std::chrono::milliseconds parse_duration(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit = trim(text.substr(end - text.data()));
  const auto bad =
      bad_line{"expected a duration like 200 ms or 3 s, got \"" + std::string(text) + "\""};
  if (ec != std::errc{} || end == text.data()) throw bad;
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "s") return std::chrono::seconds(value);
  throw bad;
}

// N copies of a quoted unit: `of N "…"`, the rest of a repeated send.
std::string take_repetition(std::string_view rest) {
  const std::size_t count = take_count(rest);
  const std::string unit = take_final_quoted(rest);
  if (unit.empty() || count > max_repeated_bytes / unit.size()) {
    throw bad_line{"the repetition must come to 1 byte to 64 MiB"};
  }
  std::string bytes;
  bytes.reserve(count * unit.size() + 1);
  for (std::size_t i = 0; i < count; ++i) bytes.append(unit);
  return bytes;
}

// sends TEXT | sends line "…" | sends line of N "…" | sends bytes "…" | sends bytes of N "…"
action::send parse_send(std::string_view rest) {
  if (rest.empty()) throw bad_line{"sends needs something to send"};
  if (take_keyword(rest, "bytes")) {
    if (take_keyword(rest, "of")) return {take_repetition(rest)};
    return {take_final_quoted(rest)};
  }
  if (take_keyword(rest, "line")) {
    if (take_keyword(rest, "of")) return {take_repetition(rest) + '\n'};
    return {take_final_quoted(rest) + '\n'};
  }
  return {std::string(rest) + '\n'};
}

// JSON after `receives`: must parse, and its special strings must be well formed.
frame_expectation parse_json_expectation(std::string_view text, name_set& capture_names) {
  json pattern;
  try {
    pattern = json::parse(text);
  } catch (const json::parse_error& error) {
    throw bad_line{std::string("the expected JSON does not parse: ") + error.what()};
  }
  std::vector<std::string> names;
  if (auto problem = validate_pattern(pattern, names)) throw bad_line{std::move(*problem)};
  capture_names.insert(names.begin(), names.end());
  return {frame_expectation::kind::json, pattern.dump()};
}

any_action parse_receive(std::string_view rest, name_set& capture_names) {
  using kind = frame_expectation::kind;
  if (rest.empty()) throw bad_line{"receives needs an expectation"};
  if (rest == "nothing") return action::receive_nothing{};
  if (rest == "closed") return action::receive_closed{};
  if (take_keyword(rest, "line")) {
    if (take_keyword(rest, "containing")) {
      return action::receive_frame{{kind::contains, take_final_quoted(rest)}};
    }
    if (take_keyword(rest, "starting")) {
      if (!take_keyword(rest, "with")) throw bad_line{R"(expected: line starting with "…")"};
      return action::receive_frame{{kind::starts_with, take_final_quoted(rest)}};
    }
    return action::receive_frame{{kind::exact, take_final_quoted(rest)}};
  }
  if (rest.front() == '{' || rest.front() == '[') {
    return action::receive_frame{parse_json_expectation(rest, capture_names)};
  }
  return action::receive_frame{{kind::exact, std::string(rest)}};
}

std::optional<relation> parse_relation(std::string_view word) {
  if (word == "<") return relation::less;
  if (word == "<=") return relation::less_equal;
  if (word == ">") return relation::greater;
  if (word == ">=") return relation::greater_equal;
  if (word == "==") return relation::equal;
  if (word == "!=") return relation::not_equal;
  return std::nullopt;
}

// check $a < $b <= 10 …
action::check parse_check(std::string_view rest, const name_set& capture_names) {
  action::check check;
  for (bool want_operand = true; !rest.empty(); want_operand = !want_operand) {
    const std::string_view word = take_word(rest);
    if (!want_operand) {
      const auto rel = parse_relation(word);
      if (!rel)
        throw bad_line{"expected one of < <= > >= == !=, got \"" + std::string(word) + "\""};
      check.relations.push_back(*rel);
      continue;
    }
    if (word.starts_with('$')) {
      const std::string_view name = word.substr(1);
      if (!capture_names.contains(name)) {
        throw bad_line{"$" + std::string(name) + " is not captured by any earlier receives"};
      }
      check.operands.push_back({true, std::string(name)});
      continue;
    }
    const json literal = json::parse(word, nullptr, /*allow_exceptions=*/false);
    if (!literal.is_number()) {
      throw bad_line{"expected a $capture or a number, got \"" + std::string(word) + "\""};
    }
    check.operands.push_back({false, std::string(word)});
  }
  if (check.operands.size() < 2 || check.operands.size() != check.relations.size() + 1) {
    throw bad_line{"expected: check OPERAND RELATION OPERAND [RELATION OPERAND …]"};
  }
  return check;
}

any_action parse_set(std::string_view rest) {
  const std::string_view setting = take_word(rest);
  if (setting == "timeout") return action::set_timeout{parse_duration(rest)};
  if (setting == "quiet") return action::set_quiet{parse_duration(rest)};
  throw bad_line{"expected: set timeout DURATION or set quiet DURATION"};
}

// Tracks what the steps so far leave behind, so a transcript that could never
// pass (sending on a connection it never opened, say) fails before it runs.
class parser {
public:
  step parse(std::string_view line) {
    step s;
    s.source = std::string(line);
    std::string_view rest = line;
    const std::string_view first = take_word(rest);
    if (first == "check") {
      s.what = parse_check(rest, capture_names_);
      return s;
    }
    if (first == "set") {
      s.what = parse_set(rest);
      return s;
    }
    if (!is_identifier(first)) {
      throw bad_line{"expected a connection name (a letter, then letters, digits, _ or -), got \"" +
                     std::string(first) + "\""};
    }
    s.client = std::string(first);
    const std::string_view verb = take_word(rest);
    if (verb == "connects") {
      expect_end(rest, verb);
      if (!open_.insert(s.client).second) throw bad_line{s.client + " is already connected"};
      s.what = action::connect{};
      return s;
    }
    require_open(s.client);
    if (verb == "disconnects") {
      expect_end(rest, verb);
      open_.erase(s.client);
      s.what = action::disconnect{};
    } else if (verb == "sends") {
      s.what = parse_send(rest);
    } else if (verb == "receives") {
      s.what = parse_receive(rest, capture_names_);
      if (std::holds_alternative<action::receive_closed>(s.what)) open_.erase(s.client);
    } else {
      throw bad_line{"expected connects, disconnects, sends or receives after \"" + s.client +
                     "\", got \"" + std::string(verb) + "\""};
    }
    return s;
  }

private:
  static void expect_end(std::string_view rest, std::string_view verb) {
    if (!rest.empty()) throw bad_line{"nothing may follow \"" + std::string(verb) + "\""};
  }

  void require_open(const std::string& client) const {
    if (!open_.contains(client)) {
      throw bad_line{client + " is not connected here (add \"" + client + " connects\" first)"};
    }
  }

  // Connections a step may use: opened and not yet ended.
  name_set open_;
  // Captures bound by some earlier pattern: the only ones a check may name.
  name_set capture_names_;
};

}  // namespace

namespace {
// "NAME:LINE: reason", or "NAME: reason" for line 0.
std::string located(const std::string& name, std::size_t line, const std::string& reason) {
  std::string out = name;
  if (line != 0) out.append(":").append(std::to_string(line));
  out.append(": ").append(reason);
  return out;
}
}  // namespace

transcript_error::transcript_error(const std::string& name, std::size_t line,
                                   const std::string& reason)
    : std::runtime_error(located(name, line, reason)), line_(line), reason_(reason) {}

transcript parse_transcript(std::string_view text, std::string name) {
  transcript result{std::move(name), {}};
  parser p;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const auto lf = text.find('\n');
    const std::string_view line = trim(text.substr(0, lf));
    text = lf == std::string_view::npos ? std::string_view{} : text.substr(lf + 1);
    if (line.empty() || line.starts_with('#')) continue;
    try {
      step s = p.parse(line);
      s.line = number;
      result.steps.push_back(std::move(s));
    } catch (const bad_line& error) {
      throw transcript_error(result.name, number, error.reason);
    }
  }
  if (result.steps.empty())
    throw transcript_error(result.name, number, "the transcript has no steps");
  return result;
}

transcript load_transcript(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw transcript_error(path, 0, std::string("cannot open: ") + std::strerror(errno));
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) throw transcript_error(path, 0, "cannot read the file");
  return parse_transcript(text, path);
}

}  // namespace chat::conformance
