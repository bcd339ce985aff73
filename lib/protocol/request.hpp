#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/error_code.hpp"

namespace chat::protocol {

// What a client asks for, whichever session mode it arrived in.
namespace request {
struct message {
  std::string text;
  // The client's `ref`, kept as compact JSON text so the ack can echo it
  // without parsing it again; empty when the client sent none.
  std::string ref_json;
};
struct ping {};
struct who {};
struct quit {};
struct help {};
}  // namespace request

using any_request =
    std::variant<request::message, request::ping, request::who, request::quit, request::help>;

// The first frame of a connection: a plain name or a JSON hello.
struct hello {
  std::string user;
  bool json = false;
};

struct decode_error {
  error_code code;
  std::string message;
};

template <class T>
using decoded = std::variant<T, decode_error>;

// The frame must already be valid UTF-8 with its LF removed.
decoded<hello> decode_hello(std::string_view frame);
decoded<any_request> decode_json_request(std::string_view frame);
decoded<any_request> decode_plain_request(std::string_view frame);

}  // namespace chat::protocol
