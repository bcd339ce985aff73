// decode_json_request, which reads flat objects itself and leaves the rest
// to nlohmann::json, against decode_json_request_with_dom, which reads every
// frame with nlohmann::json: both must decode every frame to the same
// request or the same error, message included. Every request must also be
// as request_rules.hpp wants it, and a ref, which acks echo, must be JSON of
// the value nlohmann::json reads as the frame's ref.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <nlohmann/json.hpp>

#include "fuzz_input.hpp"
#include "protocol/request.hpp"
#include "request_rules.hpp"

namespace {

namespace protocol = chat::protocol;
namespace request = protocol::request;

// Every field of a decoded frame, in one string to compare and to print.
std::string describe(const protocol::decoded<protocol::any_request>& decoded) {
  if (const auto* error = std::get_if<protocol::decode_error>(&decoded)) {
    return "error " + std::string(protocol::to_string(error->code)) + ": " + error->message;
  }
  const auto& any = std::get<protocol::any_request>(decoded);
  std::string out = "request " + std::to_string(any.index());
  const auto field = [&out](std::string_view value) { out.append(" [").append(value) += ']'; };
  std::visit(
      [&](const auto& r) {
        using type = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<type, request::message>) {
          field(r.text), field(r.ref_json), field(r.room);
        } else if constexpr (std::is_same_v<type, request::direct>) {
          field(r.to), field(r.text), field(r.ref_json);
        } else if constexpr (std::is_same_v<type, request::topic>) {
          field(r.room), field(r.text ? "set " + *r.text : "show");
        } else if constexpr (std::is_same_v<type, request::nick>) {
          field(r.user);
        } else if constexpr (std::is_same_v<type, request::history>) {
          field(r.room), field(std::to_string(r.before)), field(std::to_string(r.limit));
        } else if constexpr (std::is_same_v<type, request::resume>) {
          field(r.room), field(std::to_string(r.after));
        } else if constexpr (std::is_same_v<type, request::ban>) {
          field(r.room), field(r.target), field(r.reason), field(r.global ? "global" : "room");
          field(r.duration_s ? std::to_string(*r.duration_s) : "none");
        } else if constexpr (std::is_same_v<type, request::kick> ||
                             std::is_same_v<type, request::mute>) {
          field(r.room), field(r.user), field(r.reason);
        } else if constexpr (std::is_same_v<type, request::join> ||
                             std::is_same_v<type, request::leave> ||
                             std::is_same_v<type, request::who>) {
          field(r.room);
        }
      },
      any);
  return out;
}

std::string_view ref_of(const protocol::decoded<protocol::any_request>& decoded) {
  const auto* any = std::get_if<protocol::any_request>(&decoded);
  if (any == nullptr) return {};
  if (const auto* m = std::get_if<request::message>(any)) return m->ref_json;
  if (const auto* d = std::get_if<request::direct>(any)) return d->ref_json;
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using chat::fuzz::require;
  const std::string_view frame = chat::fuzz::as_text(data, size);
  if (!chat::fuzz::is_frame(frame)) return 0;
  const auto fast = protocol::decode_json_request(frame);
  const auto dom = protocol::decode_json_request_with_dom(frame);
  chat::fuzz::check_request(fast);
  const std::string fast_text = describe(fast);
  const std::string dom_text = describe(dom);
  require(fast_text == dom_text, "both decoders agree",
          std::string(frame) + "\n  fast: " + fast_text + "\n  dom:  " + dom_text);
  const std::string_view ref = ref_of(fast);
  if (ref.empty()) return 0;
  const auto echoed = nlohmann::json::parse(ref, nullptr, /*allow_exceptions=*/false);
  require(!echoed.is_discarded(), "a ref is JSON", ref);
  const auto object = nlohmann::json::parse(frame);
  require(echoed == object.at("ref"), "a ref is the frame's ref", frame);
  return 0;
}
