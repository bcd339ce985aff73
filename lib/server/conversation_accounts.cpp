// Accounts in a conversation: logging in with a password, and the requests
// that register, change and delete one. Every check runs on the account
// service's threads; the session holds its input meanwhile, so nothing the
// client sent after a password is handled before its verdict.
#include "accounts/account_service.hpp"
#include "protocol/event.hpp"
#include "protocol/names.hpp"
#include "server/metrics.hpp"
#include "server/conversation.hpp"
#include "server/hub.hpp"
#include "server/log.hpp"

namespace chat::server {

using accounts::status;
using protocol::error_code;
using protocol::session_mode;
namespace request = protocol::request;

void conversation::set_peer(std::string address, bool loopback, bool encrypted) {
  peer_address_ = std::move(address);
  address_ = peer_address_;
  passwords_welcome_ = encrypted || loopback || config_.allow_plaintext_passwords;
}

bool conversation::refuse_account_request(session_mode reply_mode) {
  if (accounts_ == nullptr) {
    send(metrics::error_text(reply_mode, error_code::accounts_unavailable,
                             "this server keeps no accounts (it runs without --data-dir)"));
    return true;
  }
  if (!passwords_welcome_) {
    send(metrics::error_text(reply_mode, error_code::insecure_transport,
                             "passwords are taken over TLS only from another machine: "
                             "connect to the server's TLS port"));
    return true;
  }
  return false;
}

std::function<void(accounts::result)> conversation::await_account(
    std::function<void(const accounts::result&)> then) {
  account_pending_ = true;
  // `self` keeps the session alive until the verdict is handled; the service
  // drops the handler uncalled if it goes first.
  return [self = shared_from_this(), then = std::move(then)](accounts::result verdict) {
    conversation& c = *self;
    c.run_in_session([self, then, verdict = std::move(verdict)] {
      self->account_pending_ = false;
      if (!self->closing_) then(verdict);
      self->resume_input();
    });
  };
}

void conversation::check_password(protocol::hello hello, std::string password) {
  std::string name = hello.user;
  accounts_->log_in(
      std::move(name), std::move(password), peer_address_,
      await_account([this, hello = std::move(hello)](const accounts::result& verdict) mutable {
        if (verdict.what == status::ok) {
          complete_login(hello, login_as::account);
          return;
        }
        send_account_error(hello.json ? session_mode::json : session_mode::plain, hello.user,
                           verdict);
        prompt();
      }));
}

void conversation::create_and_log_in(protocol::hello hello, std::string password) {
  std::string name = hello.user;
  accounts_->create(
      std::move(name), std::move(password),
      await_account([this, hello = std::move(hello)](const accounts::result& verdict) mutable {
        if (verdict.what == status::ok) {
          log(log_level::info, hello.user, " registered");
          complete_login(hello, login_as::new_account);
          return;
        }
        send_account_error(session_mode::json, hello.user, verdict);
        prompt();
      }));
}

void conversation::on_displaced() {
  if (closing_ || !logged_in_) return;
  // The hub has given the name away already: nothing to leave.
  end_login();
  send_error(error_code::session_replaced,
             "you logged in to " + name_ + " from somewhere else; this session is closed");
  close_after_flush();
}

bool conversation::handle(request::register_account& account) {
  if (refuse_account_request(mode_)) return true;
  if (account_) {
    send_error(error_code::bad_request, "you are logged in to the account " + name_ + " already");
    return true;
  }
  accounts_->create(name_, std::move(account.password),
                    await_account([this](const accounts::result& verdict) {
                      if (verdict.what != status::ok) {
                        send_account_error(mode_, name_, verdict);
                        return;
                      }
                      account_ = true;
                      holds_account_ = true;
                      log(log_level::info, name_, " registered");
                      send(protocol::encode_account(mode_, "registered", name_));
                    }));
  return true;
}

bool conversation::handle(request::change_password& change) {
  if (refuse_account_request(mode_)) return true;
  if (!account_) {
    send_error(error_code::bad_request, "you are not logged in to an account: /register first");
    return true;
  }
  accounts_->change_password(name_, std::move(change.old_password), std::move(change.new_password),
                             peer_address_, await_account([this](const accounts::result& verdict) {
                               if (verdict.what != status::ok) {
                                 send_account_error(mode_, name_, verdict);
                                 return;
                               }
                               send(protocol::encode_account(mode_, "password-changed", name_));
                             }));
  return true;
}

bool conversation::handle(request::unregister_account& account) {
  if (refuse_account_request(mode_)) return true;
  if (!account_) {
    send_error(error_code::bad_request, "you are not logged in to an account");
    return true;
  }
  accounts_->remove(name_, std::move(account.password), peer_address_,
                    await_account([this](const accounts::result& verdict) {
                      if (verdict.what != status::ok) {
                        send_account_error(mode_, name_, verdict);
                        return;
                      }
                      // The session stays, under the same name, as a guest.
                      account_ = false;
                      holds_account_ = false;
                      log(log_level::info, name_, " unregistered");
                      send(protocol::encode_account(mode_, "unregistered", name_));
                    }));
  return true;
}

void conversation::send_account_error(session_mode reply_mode, std::string_view name,
                                      const accounts::result& result) {
  switch (result.what) {
    case status::ok: return;
    case status::wrong_password:
      send(metrics::error_text(reply_mode, error_code::auth_failed,
                               "wrong password, or no such account"));
      return;
    case status::throttled:
      send(metrics::error_text(reply_mode, error_code::rate_limited,
                               "too many failed logins for this name or address",
                               static_cast<std::uint64_t>(result.retry_after.count())));
      return;
    case status::busy:
      send(metrics::error_text(reply_mode, error_code::rate_limited,
                               "the server is checking too many passwords at once",
                               static_cast<std::uint64_t>(result.retry_after.count())));
      return;
    case status::exists:
      send(metrics::error_text(reply_mode, error_code::name_taken,
                               "the name " + std::string(name) + " is registered already"));
      return;
    case status::no_account:
      send(metrics::error_text(reply_mode, error_code::auth_failed,
                               "the name " + std::string(name) + " has no account"));
      return;
    case status::bad_password:
      send(metrics::error_text(reply_mode, error_code::bad_password,
                               "a password is " + std::to_string(accounts::min_password_bytes) +
                                   " to " + std::to_string(accounts::max_password_bytes) +
                                   " bytes"));
      return;
    case status::failed:
      send(metrics::error_text(reply_mode, error_code::storage_unavailable,
                               "the account could not be saved: " + result.detail));
      return;
  }
}

}  // namespace chat::server
