#include "server/metrics.hpp"
#include "server/conversation.hpp"

#include <algorithm>
#include <variant>

#include "accounts/account_service.hpp"
#include "protocol/event.hpp"
#include "protocol/utf8.hpp"
#include "server/hub.hpp"
#include "server/log.hpp"

namespace chat::server {

using protocol::error_code;
using protocol::session_mode;

namespace {

// One client's turn: how much of its input is handled before the others on
// its thread (and the writers of its recipients) get to run. It also bounds
// how much one turn can add to a recipient's outbox, so a client that reads
// promptly is never mistaken for a slow consumer after a burst.
constexpr std::size_t max_lines_per_turn = 128;
constexpr std::size_t max_bytes_per_turn = 16 * 1024;

}  // namespace

conversation::conversation(hub& hub, const config& cfg, time_point now,
                           accounts::account_service* accounts)
    : config_(cfg),
      hub_(hub),
      accounts_(accounts),
      framer_(cfg.max_line),
      accepted_at_(now),
      last_heard_(now),
      turn_started_(now),
      tokens_(cfg.rate_burst),
      tokens_at_(now) {}

conversation::~conversation() = default;

void conversation::carry_messages() noexcept {
  json_only_ = true;
  mode_ = session_mode::json;
}

void conversation::begin() { prompt(); }

void conversation::prompt() {
  if (!json_only_) send(protocol::encode_prompt());
}

session_mode conversation::handshake_mode() const noexcept {
  return json_only_ ? session_mode::json : session_mode::plain;
}

void conversation::heard_from_client(time_point now) noexcept {
  // Any byte shows the client is alive, an empty line included.
  last_heard_ = now;
  awaiting_pong_ = false;
}

void conversation::send(std::string bytes) { deliver(make_frame(std::move(bytes))); }

void conversation::send_error(error_code code, std::string_view message) {
  send(metrics::error_text(mode_, code, message));
}

std::size_t conversation::on_input(std::string_view input, time_point now) {
  if (input_paused()) return 0;
  turn_started_ = now;
  std::size_t lines = 0;
  std::size_t bytes = 0;
  return framer_.feed(input, [&](auto event, std::string_view line) {
    bytes += line.size() + 1;
    return on_line(event, line) && ++lines < max_lines_per_turn && bytes < max_bytes_per_turn &&
           !input_paused();
  });
}

bool conversation::on_line(protocol::line_framer::event event, std::string_view line) {
  if (event == protocol::line_framer::event::too_long) {
    send_error(error_code::line_too_long, "lines are limited to " +
                                              std::to_string(config_.max_line) +
                                              " bytes; the rest of that line was dropped");
    return true;
  }
  if (!protocol::is_valid_utf8(line)) {
    send_error(error_code::bad_utf8, "the line is not valid UTF-8 and was dropped");
    return true;
  }
  if (!logged_in_) {
    on_handshake(line);
    return !closing_;
  }
  auto decoded = mode_ == session_mode::json ? protocol::decode_json_request(line)
                                             : protocol::decode_plain_request(line);
  if (auto* error = std::get_if<protocol::decode_error>(&decoded)) {
    send_error(error->code, error->message);
    return true;
  }
  return std::visit([this](auto& request) { return handle(request); },
                    std::get<protocol::any_request>(decoded));
}

void conversation::on_handshake(std::string_view line) {
  if (awaiting_password_) {
    // Plain: the line after PASS is the password of the name before it.
    protocol::hello hello = std::move(*awaiting_password_);
    awaiting_password_.reset();
    check_password(std::move(hello), std::string(line));
    return;
  }
  // The reply speaks the form the client attempted, even when it failed.
  const session_mode attempted =
      json_only_ || line.starts_with('{') ? session_mode::json : session_mode::plain;
  if (json_only_ && !line.starts_with('{')) {
    send(metrics::error_text(
        attempted, error_code::bad_request,
        R"(this connection speaks JSON: log in with {"type":"hello","user":NAME})"));
    return;
  }
  auto decoded = protocol::decode_hello(line);
  if (auto* error = std::get_if<protocol::decode_error>(&decoded)) {
    send(metrics::error_text(attempted, error->code, error->message));
    prompt();
    return;
  }
  auto& hello = std::get<protocol::hello>(decoded);
  if (hello.password) {
    if (refuse_account_request(attempted)) {
      prompt();
      return;
    }
    std::string password = std::move(*hello.password);
    if (hello.create_account) {
      create_and_log_in(std::move(hello), std::move(password));
    } else {
      check_password(std::move(hello), std::move(password));
    }
    return;
  }
  if (accounts_ != nullptr && accounts_->is_registered(hello.user)) {
    if (attempted == session_mode::plain && !refuse_account_request(attempted)) {
      awaiting_password_ = std::move(hello);
      send(protocol::encode_password_prompt());
      return;
    }
    if (attempted == session_mode::json) {
      send(metrics::error_text(
          attempted, error_code::password_required,
          "the name " + hello.user + " is registered: log in with its password"));
    }
    prompt();
    return;
  }
  if (config_.require_account) {
    send(metrics::error_text(attempted, error_code::account_required,
                             "this server takes registered names only: log in with a "
                             "password, or ask an operator for an account"));
    prompt();
    return;
  }
  complete_login(hello, login_as::guest);
}

void conversation::complete_login(protocol::hello& hello, login_as as) {
  const session_mode attempted = hello.json ? session_mode::json : session_mode::plain;
  name_ = std::move(hello.user);
  mode_ = attempted;
  // Only a password proves the name is the client's to take from its holder;
  // a new account's name must be free.
  hub::verdict refused;
  if (!hub_.login(shared_from_this(), hello.resume, /*take_over=*/as == login_as::account,
                  /*account=*/as != login_as::guest, &refused)) {
    if (refused) {
      // Banned from the server: told, and let go.
      send_refusal(refused->code, refused->message, refused->retry_after_s);
      mode_ = handshake_mode();
      close_after_flush();
      return;
    }
    send(metrics::error_text(attempted, error_code::name_taken, "the name " + name_ + " is taken"));
    prompt();
    // Until a login succeeds the session speaks plain text.
    mode_ = handshake_mode();
    return;
  }
  logged_in_ = true;
  metrics::add(metrics::counter::logins);
  metrics::session(mode_, +1);
  account_ = as != login_as::guest;
  holds_account_ = account_;
  current_room_ = hub_.default_room();
  // From the handshake deadline to the keepalive's.
  deadlines_changed();
  log(log_level::debug, name_, account_ ? " logged in" : " joined");
}

conversation::time_point conversation::next_deadline() const noexcept {
  if (closing_) return close_by_;
  if (!logged_in_) return accepted_at_ + config_.handshake_timeout;
  time_point next = time_point::max();
  if (config_.idle_timeout.count() > 0) next = last_heard_ + config_.idle_timeout;
  if (mode_ == session_mode::json && config_.ping_interval.count() > 0) {
    next = std::min(next, (awaiting_pong_ ? ping_sent_ : last_heard_) + config_.ping_interval);
  }
  return next;
}

void conversation::on_deadline(time_point now) {
  if (now < next_deadline()) return;  // moved on since the wait began
  if (closing_) {
    log(log_level::debug, "closing ", name_, " without a full flush");
    stop();
  } else if (!logged_in_) {
    send_error(error_code::timeout, "no name was given in time");
    close_after_flush();
  } else if (config_.idle_timeout.count() > 0 && now >= last_heard_ + config_.idle_timeout) {
    send_error(error_code::timeout, "silent for too long");
    close_after_flush();
  } else if (awaiting_pong_) {
    send_error(error_code::timeout, "no answer to ping");
    close_after_flush();
  } else {
    send(protocol::encode_ping());
    awaiting_pong_ = true;
    ping_sent_ = now;
  }
}

void conversation::begin_closing(time_point now) {
  closing_ = true;
  close_by_ = now + config_.linger;
  leave_hub();
}

void conversation::leave_hub() {
  if (!logged_in_) return;
  end_login();
  hub_.logout(*this);
}

void conversation::end_login() noexcept {
  if (!logged_in_) return;
  logged_in_ = false;
  metrics::session(mode_, -1);
}

}  // namespace chat::server
