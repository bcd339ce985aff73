#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "client/resume_state.hpp"

namespace chat::client {

// How chat-client logs in: the hello it sends, and what it does when the
// server refuses it.

struct login_hello {
  std::string_view user;
  // Empty: a guest's hello, without a password.
  std::string_view password;
  // "register":true: create the account, then log in to it.
  bool create = false;
  // Rooms to resume, `most` of them at most (the server's cap).
  const std::vector<resume_state::cursor>* rooms = nullptr;
  std::size_t most = 0;
};

// {"type":"hello","user":...,"password":...,"register":true,"resume":{...}},
// each member only when it has something to say. LF-ended.
std::string encode_login_hello(const login_hello& hello);

// What to do about an error the server answers a hello with.
enum class refusal_action {
  retry_later,   // reconnecting: connect again after the backoff
  ask_name,      // a person may give another name at the next USER
  ask_password,  // the password is to be asked (again) before the next USER
  give_up,       // ends the client
};

struct login_context {
  // A reconnect's login, as the name the session had.
  bool reconnecting = false;
  // A person at a terminal, who can be asked again.
  bool interactive = false;
  // A password was sent with the hello.
  bool password_sent = false;
};

// Reconnecting, only what may pass by itself is retried (the old session
// still holding the name, a full server, throttling); a password that no
// longer works, or an account the name now needs, ends the client: retrying
// would only lengthen the server's throttling. At the first login a person
// is asked again for what was refused; a script is not.
refusal_action on_login_error(std::string_view code, const login_context& context);

}  // namespace chat::client
