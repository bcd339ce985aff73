#include "conformance/match.hpp"

#include <compare>
#include <cstdint>
#include <utility>
#include <variant>

#include "conformance/display.hpp"

namespace chat::conformance {

namespace {

using json = nlohmann::json;

// What a string inside a JSON pattern stands for.
struct special {
  enum class kind { literal, any, capture } what = kind::literal;
  std::string text;  // the literal to compare with, or the capture name
};

bool is_capture_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return !(name.front() >= '0' && name.front() <= '9');
}

// "*" is any value, "$name" a capture, "$*" and "$$…" the literal with the
// first $ removed; nullopt for a malformed "$…".
std::optional<special> classify(const std::string& text) {
  if (text == "*") return special{special::kind::any, {}};
  if (!text.starts_with('$')) return special{special::kind::literal, text};
  if (text == "$*" || text.starts_with("$$"))
    return special{special::kind::literal, text.substr(1)};
  if (is_capture_name(std::string_view(text).substr(1))) {
    return special{special::kind::capture, text.substr(1)};
  }
  return std::nullopt;
}

// nlohmann::json compares a signed with an unsigned integer by casting one to
// the other, so -1 would equal 18446744073709551615. Ids use the whole
// unsigned range: compare integers exactly, anything else as double.
std::partial_ordering compare_numbers(const json& a, const json& b) {
  if (a.is_number_float() || b.is_number_float()) return a.get<double>() <=> b.get<double>();
  using exact = std::variant<std::int64_t, std::uint64_t>;
  const auto integer = [](const json& j) {
    return j.is_number_unsigned() ? exact{j.get<std::uint64_t>()} : exact{j.get<std::int64_t>()};
  };
  return std::visit(
      [](auto x, auto y) {
        if (std::cmp_less(x, y)) return std::partial_ordering::less;
        if (std::cmp_equal(x, y)) return std::partial_ordering::equivalent;
        return std::partial_ordering::greater;
      },
      integer(a), integer(b));
}

// JSON equality, except that numbers compare exactly by value.
bool same_value(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  return a == b;
}

std::string at(const std::string& path) { return path.empty() ? "" : "at " + path + ": "; }

std::optional<std::string> match_value(const json& pattern, const json& actual,
                                       const std::string& path, capture_table& captures) {
  if (pattern.is_string()) {
    const special s = *classify(pattern.get_ref<const std::string&>());
    switch (s.what) {
      case special::kind::any: return std::nullopt;
      case special::kind::capture: {
        const auto [bound, fresh] = captures.try_emplace(s.text, actual);
        if (fresh || same_value(bound->second, actual)) return std::nullopt;
        return at(path) + "expected $" + s.text + " = " + bound->second.dump() + ", got " +
               actual.dump();
      }
      case special::kind::literal:
        if (actual.is_string() && actual.get_ref<const std::string&>() == s.text) {
          return std::nullopt;
        }
        return at(path) + "expected " + json(s.text).dump() + ", got " + actual.dump();
    }
  }
  if (pattern.is_object()) {
    if (!actual.is_object()) return at(path) + "expected an object, got " + actual.dump();
    for (const auto& [key, value] : pattern.items()) {
      const auto found = actual.find(key);
      if (found == actual.end()) return at(path) + "missing member \"" + key + "\"";
      if (auto why = match_value(value, *found, path + "/" + key, captures)) return why;
    }
    for (const auto& [key, value] : actual.items()) {
      if (!pattern.contains(key)) return at(path) + "unexpected member \"" + key + "\"";
    }
    return std::nullopt;
  }
  if (pattern.is_array()) {
    if (!actual.is_array()) return at(path) + "expected an array, got " + actual.dump();
    if (actual.size() != pattern.size()) {
      return at(path) + "expected " + std::to_string(pattern.size()) + " elements, got " +
             std::to_string(actual.size()) + ": " + actual.dump();
    }
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (auto why = match_value(pattern[i], actual[i], path + "/" + std::to_string(i), captures)) {
        return why;
      }
    }
    return std::nullopt;
  }
  // Numbers compare by value (1 matches 1.0); true, false and null by identity.
  if (same_value(pattern, actual)) return std::nullopt;
  return at(path) + "expected " + pattern.dump() + ", got " + actual.dump();
}

std::optional<std::string> match_json(const std::string& pattern_text, std::string_view frame,
                                      capture_table& captures) {
  const json actual = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (actual.is_discarded()) return "expected a JSON value, got a line that does not parse";
  // Bind into a copy so that a frame failing halfway leaves no stray captures.
  capture_table trial = captures;
  if (auto why = match_value(json::parse(pattern_text), actual, "", trial)) return why;
  captures = std::move(trial);
  return std::nullopt;
}

std::string_view symbol(relation r) {
  switch (r) {
    case relation::less: return "<";
    case relation::less_equal: return "<=";
    case relation::greater: return ">";
    case relation::greater_equal: return ">=";
    case relation::equal: return "==";
    case relation::not_equal: return "!=";
  }
  return "?";
}

bool holds(relation r, const json& a, const json& b) {
  const std::partial_ordering order = compare_numbers(a, b);
  switch (r) {
    case relation::less: return order < 0;
    case relation::less_equal: return order <= 0;
    case relation::greater: return order > 0;
    case relation::greater_equal: return order >= 0;
    case relation::equal: return order == 0;
    case relation::not_equal: return order != 0;
  }
  return false;
}

}  // namespace

std::optional<std::string> validate_pattern(const json& pattern, std::vector<std::string>& names) {
  if (pattern.is_string()) {
    const auto& text = pattern.get_ref<const std::string&>();
    const auto s = classify(text);
    if (!s) {
      return json(text).dump() +
             " is neither a capture ($ and a name of letters, digits and _) nor an escaped"
             " literal ($$… or $*)";
    }
    if (s->what == special::kind::capture) names.push_back(s->text);
    return std::nullopt;
  }
  if (pattern.is_structured()) {
    for (const auto& element : pattern) {
      if (auto problem = validate_pattern(element, names)) return problem;
    }
  }
  return std::nullopt;
}

std::optional<std::string> match_frame(const frame_expectation& expected, std::string_view frame,
                                       capture_table& captures) {
  using kind = frame_expectation::kind;
  switch (expected.how) {
    case kind::exact:
      if (frame == expected.text) return std::nullopt;
      return "expected exactly " + quote(expected.text);
    case kind::starts_with:
      if (frame.starts_with(expected.text)) return std::nullopt;
      return "expected a line starting with " + quote(expected.text);
    case kind::contains:
      if (frame.find(expected.text) != std::string_view::npos) return std::nullopt;
      return "expected a line containing " + quote(expected.text);
    case kind::json: return match_json(expected.text, frame, captures);
  }
  return "unknown expectation";
}

std::optional<std::string> evaluate_check(const action::check& check,
                                          const capture_table& captures) {
  std::vector<json> values;
  for (const operand& o : check.operands) {
    if (!o.is_capture) {
      values.push_back(json::parse(o.text));
      continue;
    }
    const auto found = captures.find(o.text);
    if (found == captures.end()) return "$" + o.text + " was never captured";
    if (!found->second.is_number()) {
      return "$" + o.text + " is " + found->second.dump() + ", not a number";
    }
    values.push_back(found->second);
  }
  for (std::size_t i = 0; i < check.relations.size(); ++i) {
    if (!holds(check.relations[i], values[i], values[i + 1])) {
      return values[i].dump() + " " + std::string(symbol(check.relations[i])) + " " +
             values[i + 1].dump() + " does not hold";
    }
  }
  return std::nullopt;
}

std::string fill_captures(std::string_view frame, const capture_table& captures) {
  std::string out;
  std::size_t at = 0;
  while (at < frame.size()) {
    const std::size_t open = frame.find("\"$", at);
    if (open == std::string_view::npos) break;
    const std::size_t close = frame.find('"', open + 2);
    if (close == std::string_view::npos) break;
    const std::string_view name = frame.substr(open + 2, close - open - 2);
    const auto found = is_capture_name(name) ? captures.find(name) : captures.end();
    out.append(frame.substr(at, open - at));
    if (found == captures.end()) {
      out.append(frame.substr(open, close + 1 - open));
    } else {
      out.append(found->second.dump());
    }
    at = close + 1;
  }
  out.append(frame.substr(at));
  return out;
}

}  // namespace chat::conformance
