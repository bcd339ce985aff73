#include "protocol/request.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <nlohmann/json.hpp>

#include "protocol/address_range.hpp"
#include "protocol/json_text.hpp"
#include "protocol/names.hpp"

namespace chat::protocol {

namespace {

using json = nlohmann::json;

decode_error bad_request(std::string message) {
  return {error_code::bad_request, std::move(message)};
}

decode_error bad_name(std::string_view name) {
  return {error_code::bad_name,
          "names are 1 to 32 of A-Z a-z 0-9 _ . - (got \"" + std::string(name) + "\")"};
}

decode_error bad_room(std::string_view room) {
  return {error_code::bad_request,
          "room names are 1 to 64 of A-Z a-z 0-9 _ . -, with an optional leading # (got \"" +
              std::string(room) + "\")"};
}

// Parses a JSON session frame into an object, or says why it is not one.
std::variant<json, decode_error> parse_object(std::string_view frame) {
  json value = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return decode_error{error_code::bad_json, "the line is not valid JSON"};
  if (!value.is_object()) return bad_request("a request must be a JSON object");
  const auto type = value.find("type");
  if (type == value.end() || !type->is_string()) {
    return bad_request("a request needs a string field \"type\"");
  }
  return value;
}

// Plain-text recipients see message text raw: a line break would split their
// frame, and other control characters (ESC above all) would drive their
// terminal. Tab is the one kept.
bool is_printable_text(std::string_view text) {
  const auto is_control = [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7F;
  };
  // Every message passes here: look at sixteen bytes at a time where the CPU
  // can, else at eight.
  std::size_t pos = 0;
#if defined(__SSE2__)
  const __m128i last_control = _mm_set1_epi8(0x1F);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i del = _mm_set1_epi8(0x7F);
  for (; text.size() - pos >= 16; pos += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + pos));
    // Unsigned min: a byte is a control character when min(byte, 0x1F) is itself.
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, last_control), chunk);
    const __m128i refused = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(chunk, tab), control),
                                         _mm_cmpeq_epi8(chunk, del));
    if (_mm_movemask_epi8(refused) != 0) return false;
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    // A word with a byte below 0x20 or a DEL gets a closer look (a tab is
    // the one such byte allowed).
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    for (; text.size() - pos >= 8; pos += 8) {
      std::uint64_t word;
      std::memcpy(&word, text.data() + pos, sizeof word);
      const std::uint64_t delete_bytes = word ^ (ones * 0x7F);
      const std::uint64_t suspects =
          ((word - ones * 0x20) & ~word & highs) | ((delete_bytes - ones) & ~delete_bytes & highs);
      if (suspects != 0 && std::any_of(text.data() + pos, text.data() + pos + 8, is_control)) {
        return false;
      }
    }
  }
  return std::none_of(text.begin() + static_cast<std::ptrdiff_t>(pos), text.end(), is_control);
}

// Why `text` cannot be a message, if it cannot.
std::optional<decode_error> text_error(std::string_view text) {
  if (text.empty()) return bad_request("message text must not be empty");
  if (!is_printable_text(text)) {
    return bad_request("message text must not contain control characters");
  }
  return std::nullopt;
}

// A plain session's message: no ref, and always to the current room.
decoded<any_request> make_message(std::string text) {
  if (auto error = text_error(text)) return std::move(*error);
  return request::message{std::move(text), {}, {}};
}

// The members of a request object as the decoders ask for them, from either
// reading of the frame: the DOM of nlohmann::json, which takes any JSON, or a
// flat_json_object, which takes the common requests far more cheaply. The
// decoders are written once against both, so both readings decode alike.
class dom_fields {
public:
  dom_fields(std::string_view frame, const json& object) : frame_(frame), object_(object) {}

  bool has(std::string_view key) const { return object_.contains(key); }

  // False when absent or not a string.
  bool string(std::string_view key, std::string& out) const {
    const auto member = object_.find(key);
    if (member == object_.end() || !member->is_string()) return false;
    out = member->get_ref<const std::string&>();
    return true;
  }

  // nullopt when absent or not an integer in 0..2^64-1.
  std::optional<std::uint64_t> unsigned_integer(std::string_view key) const {
    const auto member = object_.find(key);
    if (member == object_.end() || !member->is_number_unsigned()) return std::nullopt;
    return member->get<std::uint64_t>();
  }

  // The client's own text of `ref`, or empty when absent. Its own text rather
  // than a re-serialisation keeps it exact (integers beyond 64 bits), unless it
  // spans lines: whitespace inside it may be a CR, which must not reach a frame.
  std::string ref_text() const {
    const auto ref = object_.find("ref");
    if (ref == object_.end()) return {};
    const auto raw = raw_member(frame_, "ref");
    // raw_member compares keys as written, so with "ref" given twice, once
    // spelt with an escape ("r\u0065f"), it may find the one the parse did not keep.
    if (raw && raw->find_first_of("\r\n") == std::string_view::npos &&
        json::parse(*raw, nullptr, /*allow_exceptions=*/false) == *ref) {
      return std::string(*raw);
    }
    return ref->dump();
  }

private:
  std::string_view frame_;
  const json& object_;
};

class flat_fields {
public:
  explicit flat_fields(const flat_json_object& object) : object_(object) {}

  bool has(std::string_view key) const { return object_.find(key) != nullptr; }

  bool string(std::string_view key, std::string& out) const {
    const auto* member = object_.find(key);
    if (member == nullptr || member->kind != flat_json_object::value_kind::string) return false;
    flat_json_object::string_value(*member, out);
    return true;
  }

  std::optional<std::uint64_t> unsigned_integer(std::string_view key) const {
    const auto* member = object_.find(key);
    if (member == nullptr || !member->is_unsigned) return std::nullopt;
    return member->unsigned_value;
  }

  // A flat value is a single token, so its text never spans lines.
  std::string ref_text() const {
    const auto* ref = object_.find("ref");
    return ref == nullptr ? std::string() : std::string(ref->raw);
  }

private:
  const flat_json_object& object_;
};

// The readers below fill a request's field in place (a request is decoded
// for every message, and each move of a string costs) or say why they cannot.
using field_error = std::optional<decode_error>;

template <class Fields>
field_error required_string(const Fields& object, std::string_view key, std::string_view type,
                            std::string& out) {
  if (object.string(key, out)) return std::nullopt;
  return bad_request(std::string(type) + " needs a string field \"" + std::string(key) + "\"");
}

// Reads an optional string member; false when present with another type.
template <class Fields>
bool optional_string(const Fields& object, std::string_view key, std::optional<std::string>& out) {
  if (!object.has(key)) return true;
  return object.string(key, out.emplace());
}

// A room member that may be absent (the current room: `out` is left empty)
// but must be a valid name when present.
template <class Fields>
field_error optional_room(const Fields& object, std::string_view type, std::string& out) {
  if (!object.has("room")) return std::nullopt;
  std::string room;
  if (!object.string("room", room)) {
    return bad_request(std::string(type) + ": \"room\" must be a string");
  }
  auto normalized = normalize_room_name(room);
  if (!normalized) return bad_room(room);
  out = std::move(*normalized);
  return std::nullopt;
}

template <class Fields, class Count>
field_error optional_count(const Fields& object, std::string_view key, std::uint64_t low,
                           std::uint64_t high, Count& out) {
  if (!object.has(key)) return std::nullopt;
  const auto value = object.unsigned_integer(key);
  if (!value || *value < low || *value > high) {
    std::string message = "\"";
    message.append(key).append("\" must be an integer in ").append(std::to_string(low));
    return bad_request(message.append("..").append(std::to_string(high)));
  }
  out = static_cast<Count>(*value);
  return std::nullopt;
}

// Whether `text` is `word`: a memcmp over the length of a literal compiles
// to a comparison or two, where std::string_view's == calls out.
bool is(std::string_view text, std::string_view word) noexcept {
  return text.size() == word.size() && std::memcmp(text.data(), word.data(), word.size()) == 0;
}

// A ban's target: an address range (in its canonical text) before a name,
// so that `10.0.0.1`, which is also a valid name, bans the address.
field_error read_target(std::string_view text, std::string& out) {
  if (auto range = address_range::parse(text)) {
    out = range->text();
    return std::nullopt;
  }
  if (!is_valid_name(text)) {
    return bad_request("a ban names a user or an address, with an optional /PREFIX (got \"" +
                       std::string(text) + "\")");
  }
  out = std::string(text);
  return std::nullopt;
}

field_error check_reason(std::string_view reason) {
  if (reason.size() > max_reason_bytes) {
    return bad_request("a reason is at most " + std::to_string(max_reason_bytes) + " bytes");
  }
  if (!is_printable_text(reason))
    return bad_request("a reason must not contain control characters");
  return std::nullopt;
}

// The members every moderation request may have: "room", "reason" and
// "duration", each optional.
template <class Fields>
field_error moderation_extras(const Fields& object, std::string_view type, std::string& room,
                              std::string* reason, std::optional<std::uint64_t>* duration) {
  if (auto error = optional_room(object, type, room)) return error;
  if (reason != nullptr && object.has("reason")) {
    if (!object.string("reason", *reason)) {
      return bad_request(std::string(type) + ": \"reason\" must be a string");
    }
    if (auto error = check_reason(*reason)) return error;
  }
  if (duration != nullptr && object.has("duration")) {
    std::uint64_t seconds = 0;
    if (auto error = optional_count(object, "duration", 1, max_moderation_seconds, seconds)) {
      return error;
    }
    *duration = seconds;
  }
  return std::nullopt;
}

template <class Fields>
field_error required_name(const Fields& object, std::string_view key, std::string_view type,
                          std::string& out) {
  if (auto error = required_string(object, key, type, out)) return error;
  if (!is_valid_name(out)) return bad_name(out);
  return std::nullopt;
}

template <class Fields>
decoded<any_request> decode_moderation(const Fields& object, std::string_view type) {
  if (is(type, "kick")) {
    request::kick kick;
    if (auto error = required_name(object, "user", type, kick.user)) return *error;
    if (auto error = moderation_extras(object, type, kick.room, &kick.reason, nullptr)) {
      return *error;
    }
    return kick;
  }
  if (is(type, "ban") || is(type, "gban")) {
    request::ban ban;
    ban.global = is(type, "gban");
    std::string target;
    if (auto error = required_string(object, "target", type, target)) return *error;
    if (auto error = read_target(target, ban.target)) return *error;
    if (auto error = moderation_extras(object, type, ban.room, &ban.reason, &ban.duration_s)) {
      return *error;
    }
    return ban;
  }
  if (is(type, "unban") || is(type, "gunban")) {
    request::unban unban;
    unban.global = is(type, "gunban");
    std::string target;
    if (auto error = required_string(object, "target", type, target)) return *error;
    if (auto error = read_target(target, unban.target)) return *error;
    if (auto error = moderation_extras(object, type, unban.room, nullptr, nullptr)) return *error;
    return unban;
  }
  if (is(type, "mute")) {
    request::mute mute;
    if (auto error = required_name(object, "user", type, mute.user)) return *error;
    if (auto error = moderation_extras(object, type, mute.room, &mute.reason, &mute.duration_s)) {
      return *error;
    }
    return mute;
  }
  if (is(type, "unmute")) {
    request::unmute unmute;
    if (auto error = required_name(object, "user", type, unmute.user)) return *error;
    if (auto error = moderation_extras(object, type, unmute.room, nullptr, nullptr)) return *error;
    return unmute;
  }
  if (is(type, "bans")) {
    request::bans bans;
    if (auto error = optional_room(object, type, bans.room)) return *error;
    return bans;
  }
  if (is(type, "op") || is(type, "deop")) {
    request::op op;
    op.grant = is(type, "op");
    if (auto error = required_name(object, "user", type, op.user)) return *error;
    if (auto error = optional_room(object, type, op.room)) return *error;
    return op;
  }
  if (is(type, "invite")) {
    request::invite invite;
    if (auto error = required_name(object, "user", type, invite.user)) return *error;
    if (auto error = optional_room(object, type, invite.room)) return *error;
    return invite;
  }
  if (is(type, "mode")) {
    request::mode mode;
    std::string value;
    if (auto error = required_string(object, "mode", type, value)) return *error;
    if (value != "private" && value != "public") {
      return bad_request(R"(mode: "mode" is "private" or "public")");
    }
    mode.private_room = value == "private";
    if (auto error = optional_room(object, type, mode.room)) return *error;
    return mode;
  }
  if (is(type, "kill")) {
    request::kill kill;
    if (auto error = required_name(object, "user", type, kill.user)) return *error;
    std::string unused_room;
    if (auto error = moderation_extras(object, type, unused_room, &kill.reason, nullptr)) {
      return *error;
    }
    return kill;
  }
  return bad_request("unknown request type \"" + std::string(type) + "\"");
}

template <class Fields>
decoded<any_request> decode_json_object(const Fields& object) {
  std::string type_text;
  if (!object.string("type", type_text)) {
    return bad_request("a request needs a string field \"type\"");
  }
  const std::string_view type = type_text;
  if (is(type, "msg")) {
    request::message message;
    if (auto error = required_string(object, "text", type, message.text)) return *error;
    if (auto error = optional_room(object, type, message.room)) return *error;
    if (auto error = text_error(message.text)) return *error;
    message.ref_json = object.ref_text();
    return message;
  }
  if (is(type, "dm")) {
    request::direct direct;
    if (auto error = required_string(object, "to", type, direct.to)) return *error;
    if (auto error = required_string(object, "text", type, direct.text)) return *error;
    if (!is_valid_name(direct.to)) return bad_name(direct.to);
    if (auto error = text_error(direct.text)) return *error;
    direct.ref_json = object.ref_text();
    return direct;
  }
  if (is(type, "join")) {
    std::string room;
    if (auto error = required_string(object, "room", type, room)) return *error;
    auto normalized = normalize_room_name(room);
    if (!normalized) return bad_room(room);
    return request::join{std::move(*normalized)};
  }
  if (is(type, "leave")) {
    request::leave leave;
    if (auto error = optional_room(object, type, leave.room)) return *error;
    return leave;
  }
  if (is(type, "who")) {
    request::who who;
    if (auto error = optional_room(object, type, who.room)) return *error;
    return who;
  }
  if (is(type, "topic")) {
    request::topic topic;
    if (auto error = optional_room(object, type, topic.room)) return *error;
    if (!optional_string(object, "text", topic.text)) {
      return bad_request("topic: \"text\" must be a string");
    }
    if (topic.text && !topic.text->empty() && !is_printable_text(*topic.text)) {
      return bad_request("a topic must not contain control characters");
    }
    return topic;
  }
  if (is(type, "nick")) {
    request::nick nick;
    if (auto error = required_string(object, "user", type, nick.user)) return *error;
    if (!is_valid_name(nick.user)) return bad_name(nick.user);
    return nick;
  }
  if (is(type, "history")) {
    request::history history;
    if (auto error = optional_room(object, type, history.room)) return *error;
    if (auto error = optional_count(object, "before", 0, SIZE_MAX, history.before)) return *error;
    if (auto error = optional_count(object, "limit", 1, max_history_page, history.limit)) {
      return *error;
    }
    return history;
  }
  if (is(type, "resume")) {
    request::resume resume;
    if (auto error = optional_room(object, type, resume.room)) return *error;
    if (auto error = optional_count(object, "after", 0, UINT64_MAX, resume.after)) return *error;
    return resume;
  }
  if (is(type, "register")) {
    request::register_account account;
    if (auto error = required_string(object, "password", type, account.password)) return *error;
    return account;
  }
  if (is(type, "password")) {
    request::change_password change;
    if (auto error = required_string(object, "old", type, change.old_password)) return *error;
    if (auto error = required_string(object, "new", type, change.new_password)) return *error;
    return change;
  }
  if (is(type, "unregister")) {
    request::unregister_account account;
    if (auto error = required_string(object, "password", type, account.password)) return *error;
    return account;
  }
  if (is(type, "rooms")) return request::rooms{};
  if (is(type, "ping")) return request::ping{};
  if (is(type, "pong")) return request::pong{};
  if (is(type, "quit")) return request::quit{};
  return decode_moderation(object, type);
}

// Splits "word rest of line" at the first space.
std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return {text, {}};
  std::string_view rest = text.substr(space + 1);
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  return {text.substr(0, space), rest};
}

decoded<any_request> plain_room_command(std::string_view argument, bool required,
                                        std::string_view usage, auto make) {
  const std::string_view word = split_word(argument).first;
  if (word.empty()) {
    if (required) return bad_request("usage: " + std::string(usage));
    return make(std::string());
  }
  auto room = normalize_room_name(word);
  if (!room) return bad_room(word);
  return make(std::move(*room));
}

// A decimal id as a plain command gives it: digits only, below 2^64.
std::optional<std::uint64_t> parse_id(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The hello's "resume": {"ROOM": LAST_ID_SEEN, ...}.
field_error read_resume_map(const json& map, std::vector<request::resume>& out) {
  if (!map.is_object()) return bad_request(R"("resume" must be an object {"ROOM":ID,...})");
  if (map.size() > max_resume_rooms) {
    return bad_request("at most " + std::to_string(max_resume_rooms) + " rooms can be resumed");
  }
  for (const auto& [room, after] : map.items()) {
    auto normalized = normalize_room_name(room);
    if (!normalized) return bad_room(room);
    if (!after.is_number_unsigned()) {
      return bad_request("resume: the id of " + room + " must be an unsigned integer");
    }
    out.push_back({std::move(*normalized), after.get<std::uint64_t>()});
  }
  return std::nullopt;
}

// "NAME [reason...]", or with `timed`, "NAME [DURATION] [reason...]": the
// word after the name is a duration when it reads as one.
struct plain_moderation_args {
  std::string_view who;
  std::optional<std::uint64_t> duration_s;
  std::string_view reason;
};
plain_moderation_args split_moderation_args(std::string_view argument, bool timed) {
  auto [who, rest] = split_word(argument);
  plain_moderation_args args{who, std::nullopt, rest};
  if (timed) {
    const auto [word, after] = split_word(rest);
    if (auto seconds = parse_duration(word)) {
      args.duration_s = seconds;
      args.reason = after;
    }
  }
  return args;
}

std::optional<decoded<any_request>> decode_plain_moderation(std::string_view command,
                                                            std::string_view argument) {
  const auto usage = [](std::string_view text) -> decoded<any_request> {
    return bad_request("usage: " + std::string(text));
  };
  const bool is_kick = command == "/kick", is_kill = command == "/kill";
  if (is_kick || is_kill) {
    const auto args = split_moderation_args(argument, false);
    if (args.who.empty()) return usage(is_kick ? "/kick NAME [REASON]" : "/kill NAME [REASON]");
    if (!is_valid_name(args.who)) return decoded<any_request>(bad_name(args.who));
    if (auto error = check_reason(args.reason)) return decoded<any_request>(std::move(*error));
    if (is_kick) return request::kick{{}, std::string(args.who), std::string(args.reason)};
    return request::kill{std::string(args.who), std::string(args.reason)};
  }
  if (command == "/ban" || command == "/gban") {
    const auto args = split_moderation_args(argument, true);
    if (args.who.empty())
      return usage(std::string(command.substr(1)) + " NAME|ADDRESS[/PREFIX] [DURATION] [REASON]");
    request::ban ban;
    if (auto error = read_target(args.who, ban.target))
      return decoded<any_request>(std::move(*error));
    if (auto error = check_reason(args.reason)) return decoded<any_request>(std::move(*error));
    ban.duration_s = args.duration_s;
    ban.reason = args.reason;
    ban.global = command == "/gban";
    return ban;
  }
  if (command == "/unban" || command == "/gunban") {
    const std::string_view target = split_word(argument).first;
    if (target.empty()) return usage(std::string(command) + " NAME|ADDRESS[/PREFIX]");
    request::unban unban;
    if (auto error = read_target(target, unban.target))
      return decoded<any_request>(std::move(*error));
    unban.global = command == "/gunban";
    return unban;
  }
  if (command == "/mute") {
    const auto args = split_moderation_args(argument, true);
    if (args.who.empty()) return usage("/mute NAME [DURATION] [REASON]");
    if (!is_valid_name(args.who)) return decoded<any_request>(bad_name(args.who));
    if (auto error = check_reason(args.reason)) return decoded<any_request>(std::move(*error));
    return request::mute{{}, std::string(args.who), args.duration_s, std::string(args.reason)};
  }
  const bool is_unmute = command == "/unmute", is_op = command == "/op",
             is_deop = command == "/deop", is_invite = command == "/invite";
  if (is_unmute || is_op || is_deop || is_invite) {
    const std::string_view user = split_word(argument).first;
    if (user.empty()) return usage(std::string(command) + " NAME");
    if (!is_valid_name(user)) return decoded<any_request>(bad_name(user));
    if (is_unmute) return request::unmute{{}, std::string(user)};
    if (is_invite) return request::invite{{}, std::string(user)};
    return request::op{{}, std::string(user), is_op};
  }
  if (command == "/mode") {
    const std::string_view value = split_word(argument).first;
    if (value != "private" && value != "public") return usage("/mode private|public");
    return request::mode{{}, value == "private"};
  }
  if (command == "/bans") return request::bans{};
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_duration(std::string_view text) {
  std::uint64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86'400; break;
      default: unit = 0;
    }
    if (unit != 0) text.remove_suffix(1);
    if (unit == 0) unit = 1;
  }
  const auto value = parse_id(text);
  if (!value || *value == 0 || *value > max_moderation_seconds / unit) return std::nullopt;
  return *value * unit;
}

decoded<hello> decode_hello(std::string_view frame) {
  if (!frame.starts_with('{')) {
    if (!is_valid_name(frame)) return bad_name(frame);
    return hello{std::string(frame), false, {}, false, {}};
  }
  auto parsed = parse_object(frame);
  if (auto* error = std::get_if<decode_error>(&parsed)) return std::move(*error);
  const json& object = std::get<json>(parsed);
  const auto user = object.find("user");
  if (object["type"] != "hello" || user == object.end() || !user->is_string()) {
    return bad_request(R"(expected {"type":"hello","user":NAME})");
  }
  const auto& name = user->get_ref<const std::string&>();
  if (!is_valid_name(name)) return bad_name(name);
  hello greeting{name, true, {}, false, {}};
  if (const auto password = object.find("password"); password != object.end()) {
    if (!password->is_string()) return bad_request(R"(hello: "password" must be a string)");
    greeting.password = password->get<std::string>();
  }
  if (const auto create = object.find("register"); create != object.end()) {
    if (!create->is_boolean()) return bad_request(R"(hello: "register" must be true or false)");
    greeting.create_account = create->get<bool>();
    if (greeting.create_account && !greeting.password) {
      return bad_request(R"(hello: "register" needs a "password")");
    }
  }
  if (const auto resume = object.find("resume"); resume != object.end()) {
    if (auto error = read_resume_map(*resume, greeting.resume)) return std::move(*error);
  }
  return greeting;
}

decoded<any_request> decode_json_request(std::string_view frame) {
  // Every message of a JSON session comes this way: most are flat objects.
  flat_json_object flat;
  if (flat.read(frame)) return decode_json_object(flat_fields(flat));
  return decode_json_request_with_dom(frame);
}

decoded<any_request> decode_json_request_with_dom(std::string_view frame) {
  auto parsed = parse_object(frame);
  if (auto* error = std::get_if<decode_error>(&parsed)) return std::move(*error);
  return decode_json_object(dom_fields(frame, std::get<json>(parsed)));
}

decoded<any_request> decode_plain_request(std::string_view frame) {
  if (!frame.starts_with('/')) return make_message(std::string(frame));
  if (frame.starts_with("//")) return make_message(std::string(frame.substr(1)));
  const auto [command, argument] = split_word(frame);
  if (command == "/join") {
    return plain_room_command(argument, true, "/join ROOM",
                              [](std::string room) { return request::join{std::move(room)}; });
  }
  if (command == "/leave") {
    return plain_room_command(argument, false, "/leave [ROOM]",
                              [](std::string room) { return request::leave{std::move(room)}; });
  }
  if (command == "/who") {
    return plain_room_command(argument, false, "/who [ROOM]",
                              [](std::string room) { return request::who{std::move(room)}; });
  }
  if (command == "/topic") {
    if (argument.empty()) return request::topic{};
    if (!is_printable_text(argument)) {
      return bad_request("a topic must not contain control characters");
    }
    return request::topic{{}, std::string(argument)};
  }
  if (command == "/msg") {
    const auto [to, text] = split_word(argument);
    if (to.empty() || text.empty()) return bad_request("usage: /msg NAME TEXT");
    if (!is_valid_name(to)) return bad_name(to);
    if (auto error = text_error(text)) return std::move(*error);
    return request::direct{std::string(to), std::string(text), {}};
  }
  if (command == "/nick") {
    const std::string_view user = split_word(argument).first;
    if (user.empty()) return bad_request("usage: /nick NAME");
    if (!is_valid_name(user)) return bad_name(user);
    return request::nick{std::string(user)};
  }
  if (command == "/resume") {
    const auto [room, after] = split_word(argument);
    const auto id = parse_id(split_word(after).first);
    if (room.empty() || !id) return bad_request("usage: /resume ROOM ID");
    auto normalized = normalize_room_name(room);
    if (!normalized) return bad_room(room);
    return request::resume{std::move(*normalized), *id};
  }
  // A password is the rest of the line, spaces and all; the old one of
  // /password is a word.
  if (command == "/register") {
    if (argument.empty()) return bad_request("usage: /register PASSWORD");
    return request::register_account{std::string(argument)};
  }
  if (command == "/password") {
    const auto [old_password, new_password] = split_word(argument);
    if (old_password.empty() || new_password.empty()) {
      return bad_request("usage: /password OLD NEW");
    }
    return request::change_password{std::string(old_password), std::string(new_password)};
  }
  if (command == "/unregister") {
    if (argument.empty()) return bad_request("usage: /unregister PASSWORD");
    return request::unregister_account{std::string(argument)};
  }
  if (auto moderation = decode_plain_moderation(command, argument)) return std::move(*moderation);
  if (command == "/rooms") return request::rooms{};
  if (command == "/quit") return request::quit{};
  if (command == "/help") return request::help{};
  return decode_error{error_code::unknown_command,
                      "unknown command " + std::string(command) + " (try /help)"};
}

}  // namespace chat::protocol
