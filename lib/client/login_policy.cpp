#include "client/login_policy.hpp"

#include "protocol/error_code.hpp"
#include "protocol/json_text.hpp"

namespace chat::client {

namespace {

bool is(std::string_view code, protocol::error_code expected) {
  return code == protocol::to_string(expected);
}

}  // namespace

std::string encode_login_hello(const login_hello& hello) {
  std::string out(R"({"type":"hello","user":)");
  protocol::append_json_string(out, hello.user);
  if (!hello.password.empty()) {
    out.append(R"(,"password":)");
    protocol::append_json_string(out, hello.password);
    if (hello.create) out.append(R"(,"register":true)");
  }
  if (hello.rooms != nullptr && !hello.rooms->empty() && hello.most != 0) {
    out.append(R"(,"resume":{)");
    std::size_t written = 0;
    for (const auto& c : *hello.rooms) {
      if (written == hello.most) break;
      if (written++ != 0) out.push_back(',');
      protocol::append_json_string(out, c.room);
      out.push_back(':');
      out.append(std::to_string(c.through));
    }
    out.push_back('}');
  }
  out.append("}\n");
  return out;
}

refusal_action on_login_error(std::string_view code, const login_context& context) {
  using protocol::error_code;
  const bool account_refusal =
      is(code, error_code::auth_failed) || is(code, error_code::password_required) ||
      is(code, error_code::bad_password) || is(code, error_code::account_required) ||
      is(code, error_code::accounts_unavailable) || is(code, error_code::insecure_transport) ||
      is(code, error_code::session_replaced);
  if (context.reconnecting) {
    if (is(code, error_code::bad_name) || account_refusal) return refusal_action::give_up;
    return refusal_action::retry_later;
  }
  // Told so even to a script: a pipe's next line is the password.
  if (is(code, error_code::password_required) && !context.password_sent) {
    return refusal_action::ask_password;
  }
  if (!context.interactive) return refusal_action::give_up;
  if (is(code, error_code::bad_name) || is(code, error_code::name_taken)) {
    return refusal_action::ask_name;
  }
  if (is(code, error_code::auth_failed) || is(code, error_code::bad_password)) {
    return refusal_action::ask_password;
  }
  return refusal_action::give_up;
}

}  // namespace chat::client
