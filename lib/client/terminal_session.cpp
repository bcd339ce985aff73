#include "client/terminal_session.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/connection.hpp"
#include "client/input_action.hpp"
#include "client/input_reader.hpp"
#include "client/login_policy.hpp"
#include "client/outbox.hpp"
#include "client/password_source.hpp"
#include "client/reconnect_backoff.hpp"
#include "client/render.hpp"
#include "client/resume_state.hpp"
#include "client/server_event.hpp"
#include "client/session_state.hpp"
#include "protocol/error_code.hpp"
#include "protocol/event.hpp"
#include "protocol/json_text.hpp"
#include "protocol/names.hpp"

namespace chat::client {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;

// Longest input line taken. The server's --max-line decides what it accepts;
// this only keeps a runaway input from growing the client.
constexpr std::size_t max_input_line = 64 * 1024;

// How long the server may take to close the connection once asked to.
constexpr std::chrono::seconds close_grace{10};

// False when the stream cannot be written (a closed pipe, a full disk).
bool print_line(std::FILE* stream, std::string_view text) {
  const bool written = std::fwrite(text.data(), 1, text.size(), stream) == text.size() &&
                       std::fputc('\n', stream) != EOF;
  // Flushed per line: whoever reads a pipe from us wants each frame now.
  return std::fflush(stream) == 0 && written;
}

void complain(std::string_view text) { print_line(stderr, "chat-client: " + std::string(text)); }

bool is_error(const server_event& event, protocol::error_code code) {
  return event.type == server_event::kind::error && event.code == protocol::to_string(code);
}

// "wrong password (auth-failed)", with how long to wait when the server
// says: what a refusal is called in the client's own news.
std::string describe_refusal(const server_event& event) {
  std::string out = event.text + " (" + event.code + ")";
  if (event.retry_after) out.append("; try again in " + std::to_string(*event.retry_after) + " s");
  return out;
}

// One connection and the outbox that writes to it. Shared: the coroutine
// writing a typed line keeps the one it wrote to alive when a reconnect has
// replaced it meanwhile.
struct link {
  link(const asio::any_io_executor& executor, connection connected)
      : conn(std::move(connected)), out(executor, conn) {}
  connection conn;
  // Every write goes through it: typed lines and pongs must not overlap.
  outbox out;
};

// Rooms one hello may resume: the server's cap (max_resume_rooms in
// lib/protocol); the rest are resumed one request each once logged in.
constexpr std::size_t hello_resume_rooms = 64;

// What a read from the server gave: a frame, or none with why (empty: the
// server closed the connection).
struct received {
  std::optional<std::string> frame;
  std::string failure;
};

class terminal_session {
public:
  terminal_session(asio::io_context& io, const options& opts)
      : opts_(opts),
        executor_(io.get_executor()),
        input_(executor_, STDIN_FILENO, max_input_line),
        close_timer_(executor_),
        room_answer_(executor_),
        retry_timer_(executor_),
        online_signal_(executor_),
        signals_(executor_),
        interactive_(::isatty(STDIN_FILENO) == 1) {}

  awaitable<void> run();

  int exit_status() const noexcept { return status_.value_or(exit_failure); }

private:
  enum class login_result { ok, retry, fatal };
  // Who a pong we are waiting for answers: pings are answered in order, so
  // the pongs come back in the order these were queued.
  struct awaited_pong {
    enum class kind {
      script,       // --json: the script's own ping; shown
      room_answer,  // after a join or leave typed: lines typed after it may go
      hello,        // after the login: the hello's replays are in
      restored,     // after a reconnect's fixups: the session is as it was
      replay,       // after a resume (a `more` followed): that page is in
      account,      // after /register, /password, /unregister: it is answered
    };
    kind what;
    std::vector<std::string> rooms;  // whose replays the pong closes
  };

  awaitable<login_result> log_in(bool again, std::string& why);
  awaitable<std::optional<std::string>> ask_name(bool first);
  awaitable<std::optional<std::string>> ask_password(std::string_view name);
  awaitable<std::string> relay_server();
  awaitable<void> relay_input();
  awaitable<void> leave();
  awaitable<void> await_room_answer();
  awaitable<void> await_online();
  awaitable<void> reconnect(std::string why);
  awaitable<bool> open_link(std::string& failure);

  awaitable<received> receive();
  awaitable<std::optional<line_buffer::line>> read_input();

  void handle(const server_event& event, std::string_view frame);
  void answered(awaited_pong pong);
  void logged_in(bool again);
  void restore_rooms();
  void drop_link();
  std::string hello_for(std::string_view name);
  void post_with_ping(std::string frames, awaited_pong pong);
  bool joined(std::string_view room) const;

  void show(const server_event& event, std::string_view frame);
  void reply(const local_reply& answer);
  void notice(std::string_view text);
  void print(std::string_view line);
  void watch_signals();
  void finish(int status, std::string_view complaint = {});
  void end_unreconnected(const std::string& why);

  const options& opts_;
  asio::any_io_executor executor_;
  input_reader input_;
  std::shared_ptr<link> link_;  // empty until connected
  // Links replaced by a reconnect, kept until nothing of theirs runs.
  std::vector<std::shared_ptr<link>> retired_;
  // Our rooms and the current one, as the server's answers tell them.
  session_state where_;
  // What we have seen of each room, to resume from after a lost connection.
  resume_state seen_;
  reconnect_backoff backoff_;
  // Bounds the wait for the server to close once we have asked it to.
  asio::steady_timer close_timer_;
  // Never expires; cancelled when the answer to a join or leave is in.
  asio::steady_timer room_answer_;
  // The wait before the next attempt to reconnect.
  asio::steady_timer retry_timer_;
  // Never expires; cancelled when the session is back after a reconnect,
  // and when a link is dropped.
  asio::steady_timer online_signal_;
  std::deque<awaited_pong> pongs_;
  // A join or leave went out, followed by a ping, and the pong has not come
  // back: typed lines wait, as they may be meant for the room it makes
  // current. The server answers a connection's requests in order, so the
  // pong comes after the answer, whichever it was (joined, left, an error).
  bool awaiting_room_answer_ = false;
  // Logged in, and after a reconnect back in the rooms it was in: typed
  // lines wait for it.
  bool online_ = false;
  // The name we are logged in as (welcome, then our own nick changes):
  // a reconnect logs in as it.
  std::string user_;
  // The rooms, the current one last, that a reconnect is to restore.
  std::vector<std::string> wanted_rooms_;
  // Our messages still unconfirmed when the connection was lost.
  std::size_t lost_unconfirmed_ = 0;
  // The account's password: sent in every hello, the reconnects' too, once
  // known (--password-file, CHAT_PASSWORD, asked, or set by /register).
  std::optional<std::string> password_;
  // --register until the first login: the hello creates the account.
  bool registering_ = false;
  // What each account request sent and not yet answered (its pong not in)
  // makes the password once the server agrees, oldest first.
  std::deque<password_change> pending_accounts_;
  // The server ended the session as its account logged in elsewhere:
  // coming back would take the name from the other client in turn.
  bool replaced_ = false;
  // The server throttled a reconnect's login: the next attempt waits this
  // long at least.
  std::chrono::milliseconds retry_hint_{0};
  // Echo off while a password is typed; finish() turns it back on.
  std::optional<echo_off> echo_;
  // Ctrl-C and friends end the session through finish(), so that stdin gets
  // its file status flags back (see input_reader) instead of dying with them.
  asio::signal_set signals_;
  // A person at a terminal, who can be asked for another name.
  const bool interactive_;
  // We asked the server to end the session: its closing is the expected end.
  bool quit_sent_ = false;
  // The server announced it is going away: its closing is the expected end
  // (with --no-reconnect), or a reason to come back.
  bool shutdown_seen_ = false;
  // Set once, by whichever side ends the session first; the others see it
  // after their next suspension and stop.
  std::optional<int> status_;
};

awaitable<void> terminal_session::run() {
  if (opts_.tls && opts_.tls->insecure) {
    complain(
        "warning: --insecure: the server's certificate is not checked; anyone between here"
        " and " +
        format_address(opts_.host, opts_.port) + " can read and change the conversation");
  }
  auto known = initial_password(opts_, std::getenv(password_variable));
  if (const auto* error = std::get_if<password_error>(&known)) {
    finish(exit_failure, error->message);
    co_return;
  }
  password_ = std::move(std::get<std::optional<std::string>>(known));
  registering_ = opts_.register_account;
  std::string failure;
  if (!co_await open_link(failure)) {
    finish(exit_failure, failure);
    co_return;
  }
  // Only now: while connecting, the default action ends a client that has
  // nothing to clean up, and ends it at once.
  watch_signals();
  for (const auto& [room, after] : opts_.resume) seen_.expect(room, after);
  std::string why;
  if (co_await log_in(/*again=*/false, why) != login_result::ok || status_) co_return;

  // Input and output run side by side until one of them calls finish().
  asio::co_spawn(executor_, relay_input(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  for (;;) {
    why = co_await relay_server();
    if (status_) co_return;
    if (replaced_ && !quit_sent_) {
      notice("* logged in elsewhere; not reconnecting");
      finish(exit_failure);
      co_return;
    }
    if (quit_sent_ || !opts_.reconnect) {
      end_unreconnected(why);
      co_return;
    }
    co_await reconnect(std::move(why));
    if (status_) co_return;
  }
}

awaitable<bool> terminal_session::open_link(std::string& failure) {
  try {
    connection connected =
        co_await connection::connect(executor_, opts_.host, opts_.port, opts_.tls);
    link_ = std::make_shared<link>(executor_, std::move(connected));
  } catch (const std::exception& e) {
    failure = e.what();
    co_return false;
  }
  link_->conn.enable_keepalive();
  co_return true;
}

void terminal_session::end_unreconnected(const std::string& why) {
  if (quit_sent_ || shutdown_seen_) {
    finish(exit_ok);
  } else if (why.empty()) {
    finish(exit_failure, "the server closed the connection");
  } else {
    finish(exit_failure, "connection to the server lost: " + why);
  }
}

awaitable<terminal_session::login_result> terminal_session::log_in(bool again, std::string& why) {
  using kind = server_event::kind;
  bool first_name = true;
  // A reconnect logs in as the name it had, with the password it had.
  bool ask_name_next = !again;
  bool ask_password_next = !again && registering_ && !password_;
  std::string name = user_;
  bool password_sent = false;
  for (;;) {
    const received in = co_await receive();
    if (status_) co_return login_result::fatal;
    if (!in.frame) {
      if (again) {
        why = in.failure.empty() ? "the server closed the connection during login" : in.failure;
        co_return login_result::retry;
      }
      finish(exit_failure, in.failure.empty() ? "the server closed the connection during login"
                                              : "connection to the server lost: " + in.failure);
      co_return login_result::fatal;
    }
    const std::string& frame = *in.frame;
    const server_event event = decode_server_event(frame);
    if (event.type == kind::prompt) {
      if (ask_name_next) {
        std::optional<std::string> typed = co_await ask_name(first_name);
        first_name = false;
        if (status_) co_return login_result::fatal;
        if (!typed) {
          finish(exit_failure, "no user name given");
          co_return login_result::fatal;
        }
        name = std::move(*typed);
        ask_name_next = false;
      }
      if (ask_password_next) {
        std::optional<std::string> typed = co_await ask_password(name);
        if (status_) co_return login_result::fatal;
        if (!typed) {
          finish(exit_failure, "no password given");
          co_return login_result::fatal;
        }
        password_ = std::move(*typed);
        ask_password_next = false;
      }
      password_sent = password_.has_value();
      // A failed write shows up in the read that follows.
      co_await link_->out.send(hello_for(name));
      continue;
    }
    if (event.type == kind::error) {
      const login_context context{again, interactive_, password_sent};
      switch (on_login_error(event.code, context)) {
        case refusal_action::retry_later:
          // name-taken: the server may not have seen the old connection go
          // yet; server-full, rate-limited and the like pass too.
          why = is_error(event, protocol::error_code::name_taken)
                    ? "the name " + user_ + " is still taken, maybe by the lost session"
                    : describe_refusal(event);
          if (event.retry_after) retry_hint_ = std::chrono::seconds(*event.retry_after);
          co_return login_result::retry;
        case refusal_action::ask_name:
          // The server sends USER again after a refused name: a person can
          // try another one.
          show(event, frame);
          ask_name_next = true;
          continue;
        case refusal_action::ask_password:
          // A wrong password is worth saying; that one is needed is what
          // the question says.
          if (password_sent) show(event, frame);
          password_.reset();
          ask_password_next = true;
          continue;
        case refusal_action::give_up: break;
      }
      if (opts_.json) show(event, frame);
      if (again) {
        finish(exit_failure, "login refused: " + describe_refusal(event) + "; not reconnecting");
      } else {
        finish(exit_failure, "login refused: " + describe_refusal(event));
      }
      co_return login_result::fatal;
    }
    if (event.type == kind::welcome) {
      user_ = event.user;
      registering_ = false;
      if (again) notice("* reconnected");
    }
    handle(event, frame);
    if (event.type == kind::welcome) {
      logged_in(again);
      co_return login_result::ok;
    }
  }
}

// The hello for `name`: with the password when there is one, and the rooms
// to resume when there are some.
std::string terminal_session::hello_for(std::string_view name) {
  login_hello hello{name, password_ ? std::string_view(*password_) : std::string_view(),
                    registering_};
  const std::vector<resume_state::cursor>& rooms = seen_.rooms();
  if (!rooms.empty()) {
    for (std::size_t i = 0; i < rooms.size() && i < hello_resume_rooms; ++i) {
      seen_.replay_requested(rooms[i].room, rooms[i].through);
    }
    hello.rooms = &rooms;
    hello.most = hello_resume_rooms;
  }
  return encode_login_hello(hello);
}

void terminal_session::logged_in(bool again) {
  backoff_.reset();
  std::vector<std::string> replaying;
  for (const auto& c : seen_.rooms()) {
    if (c.replays > 0) replaying.push_back(c.room);
  }
  // The pong says the hello's replays are over (and, after a reconnect, that
  // every room it named has been joined or refused).
  if (again || !replaying.empty()) {
    post_with_ping({}, {awaited_pong::kind::hello, std::move(replaying)});
  }
  if (!again) {
    online_ = true;
    online_signal_.cancel();
  }
}

// After a reconnect's hello: rooms it could not resume get a request each,
// the server's default room is left if we were not in it, and the room that
// was current is made current again. Typed lines wait until that is done.
void terminal_session::restore_rooms() {
  std::string frames;
  std::vector<std::string> resumed;
  std::vector<std::pair<std::string, std::uint64_t>> missing;
  for (const auto& c : seen_.rooms()) {
    if (!joined(c.room)) missing.emplace_back(c.room, c.through);
  }
  for (const auto& [room, after] : missing) {
    frames.append(encode_resume_request(room, after));
    seen_.replay_requested(room, after);
    resumed.push_back(room);
  }
  bool moved = !missing.empty();
  for (const auto& room : where_.rooms()) {
    const bool wanted = std::any_of(wanted_rooms_.begin(), wanted_rooms_.end(), [&](const auto& r) {
      return protocol::fold_name(r) == protocol::fold_name(room);
    });
    if (wanted) continue;
    std::string leave_request(R"({"type":"leave","room":)");
    protocol::append_json_string(leave_request, room);
    frames.append(leave_request).append("}\n");
    moved = true;
  }
  if (!wanted_rooms_.empty() && (moved || !where_.is_current(wanted_rooms_.back()))) {
    // Joining a room we are in only makes it current again.
    std::string join_request(R"({"type":"join","room":)");
    protocol::append_json_string(join_request, wanted_rooms_.back());
    frames.append(join_request).append("}\n");
  }
  post_with_ping(std::move(frames), {awaited_pong::kind::restored, std::move(resumed)});
}

void terminal_session::post_with_ping(std::string frames, awaited_pong pong) {
  pongs_.push_back(std::move(pong));
  frames.append(protocol::encode_bare_request("ping"));
  link_->out.post(frames);
}

bool terminal_session::joined(std::string_view room) const {
  const std::string key = protocol::fold_name(room);
  return std::any_of(where_.rooms().begin(), where_.rooms().end(),
                     [&](const std::string& r) { return protocol::fold_name(r) == key; });
}

awaitable<std::optional<std::string>> terminal_session::ask_name(bool first) {
  if (first && opts_.user) co_return *opts_.user;
  if (interactive_) {
    std::fputs("user name: ", stderr);
    std::fflush(stderr);
  }
  for (;;) {
    auto line = co_await read_input();
    if (!line) co_return std::nullopt;
    if (!line->too_long) co_return std::move(line->text);
  }
}

// The password for `name`, typed without echo on a terminal, else the next
// line of standard input; nullopt at the end of input.
awaitable<std::optional<std::string>> terminal_session::ask_password(std::string_view name) {
  for (;;) {
    if (interactive_) {
      std::fputs(("password for " + std::string(name) + ": ").c_str(), stderr);
      std::fflush(stderr);
      echo_.emplace(STDIN_FILENO);
    }
    auto line = co_await read_input();
    echo_.reset();
    if (!line) co_return std::nullopt;
    if (!line->too_long && !line->text.empty()) co_return std::move(line->text);
    if (!interactive_) co_return std::nullopt;
  }
}

// Until the connection ends; returns why (empty: the server closed it).
awaitable<std::string> terminal_session::relay_server() {
  for (;;) {
    const received in = co_await receive();
    if (status_) co_return std::string();
    if (!in.frame) co_return in.failure;
    handle(decode_server_event(*in.frame), *in.frame);
  }
}

void terminal_session::handle(const server_event& event, std::string_view frame) {
  using kind = server_event::kind;
  if (event.type == kind::ping) {
    // Answered here, in both modes, and not shown: the server drops a JSON
    // client that stays silent, and a person or a script has nothing to
    // do with it.
    link_->out.post(protocol::encode_pong());
    return;
  }
  if (event.type == kind::pong && !pongs_.empty()) {
    awaited_pong pong = std::move(pongs_.front());
    pongs_.pop_front();
    if (pong.what == awaited_pong::kind::script) {
      show(event, frame);
    } else {
      answered(std::move(pong));  // our own ping: not shown
    }
    return;
  }
  if (event.type == kind::shutdown) shutdown_seen_ = true;
  if (is_error(event, protocol::error_code::session_replaced)) replaced_ = true;
  if ((event.type == kind::registered || event.type == kind::password_changed ||
       event.type == kind::unregistered) &&
      !pending_accounts_.empty()) {
    // Answers come in the order asked, each before its pong: the oldest
    // request still waiting is the one answered.
    const std::string& password = pending_accounts_.front().password;
    if (event.type == kind::unregistered || password.empty()) {
      password_.reset();
    } else {
      password_ = password;
    }
  }
  if (event.type == kind::nick && event.from == user_) user_ = event.to;
  resume_state::outcome outcome = seen_.apply(event);
  where_.apply(event);
  if (outcome.follow) {
    seen_.replay_requested(event.room, event.after);
    post_with_ping(std::move(*outcome.follow), {awaited_pong::kind::replay, {event.room}});
  }
  if (!outcome.show) return;
  // Followed already: a person has nothing to do with it. A script sees it.
  if (event.type == kind::more && !opts_.json) return;
  if (outcome.about && !opts_.json) {
    print(render_error_about(event, outcome.about->room, outcome.about->text));
    return;
  }
  show(event, frame);
}

void terminal_session::answered(awaited_pong pong) {
  using kind = awaited_pong::kind;
  // After a reconnect's hello, rooms it did not join are still to be
  // resumed one by one; otherwise a room not joined by now was refused (or
  // left since) and is no longer ours.
  const bool restoring = pong.what == kind::hello && !online_;
  for (const auto& room : pong.rooms) {
    seen_.replay_answered(room);
    if (!restoring && !joined(room)) seen_.forget(room);
  }
  switch (pong.what) {
    case kind::room_answer:
      awaiting_room_answer_ = false;
      room_answer_.cancel();
      break;
    case kind::hello:
      if (restoring) restore_rooms();
      break;
    case kind::restored:
      online_ = true;
      online_signal_.cancel();
      break;
    case kind::account:
      if (!pending_accounts_.empty()) pending_accounts_.pop_front();
      break;
    case kind::replay:
    case kind::script: break;
  }
}

awaitable<void> terminal_session::relay_input() {
  const input_mode mode = opts_.json ? input_mode::json : input_mode::chat;
  for (;;) {
    auto line = co_await read_input();
    if (status_) co_return;
    if (!line) break;
    if (line->too_long) {
      reply({"! not sent: the line is longer than " + std::to_string(max_input_line) + " bytes",
             true});
      continue;
    }
    input_action action = interpret_input(line->text, mode, where_.current_room());
    if (const auto* answer = std::get_if<local_reply>(&action)) {
      reply(*answer);
      continue;
    }
    if (!online_) {
      // Nothing to say goodbye to.
      if (std::get<send_frame>(action).quits) {
        finish(exit_ok);
        co_return;
      }
      co_await await_online();
      if (status_) co_return;
    }
    // Again, now that the current room is known, and with a ref that tells
    // us the id the message got.
    const std::uint64_t ref = mode == input_mode::chat ? seen_.next_ref() : 0;
    action = interpret_input(line->text, mode, where_.current_room(), ref);
    const auto& request = std::get<send_frame>(action);
    if (request.ref != 0) seen_.sent(request.room, request.text);
    std::string frame = request.frame;
    // Set before writing: the server may close, or answer, before the write
    // completes.
    if (request.quits) quit_sent_ = true;
    if (request.asks_pong) pongs_.push_back({awaited_pong::kind::script, {}});
    if (request.account) {
      // The pong says the request is answered, whatever the answer was.
      pending_accounts_.push_back(*request.account);
      pongs_.push_back({awaited_pong::kind::account, {}});
      frame.append(protocol::encode_bare_request("ping"));
    }
    if (request.changes_room) {
      awaiting_room_answer_ = true;
      std::vector<std::string> replaying;
      if (!request.resume_room.empty()) {
        seen_.replay_requested(request.resume_room, request.resume_after);
        replaying.push_back(request.resume_room);
      }
      pongs_.push_back({awaited_pong::kind::room_answer, std::move(replaying)});
      frame.append(protocol::encode_bare_request("ping"));
    }
    // A failed write: the reader reports the failure once it has shown
    // whatever the server said last (a slow-consumer error, a shutdown), and
    // then either ends the client or reconnects, which the next line waits
    // for.
    const std::shared_ptr<link> to = link_;
    if (!co_await to->out.send(frame)) {
      if (!opts_.reconnect || request.quits) co_return;
      // Until the reader has seen the loss: lines read meanwhile would go
      // to the dead link and be lost without a word.
      while (link_ == to && !status_) {
        online_signal_.expires_at(asio::steady_timer::time_point::max());
        co_await online_signal_.async_wait(asio::as_tuple(use_awaitable));
      }
      if (status_) co_return;
      continue;
    }
    if (request.quits) break;
    co_await await_room_answer();
    if (status_) co_return;
  }
  if (!online_) {
    // The end of input while reconnecting: everything typed went out, but
    // what went out just before the loss may not have arrived.
    if (lost_unconfirmed_ != 0) {
      finish(exit_failure, "input ended while reconnecting; " + std::to_string(lost_unconfirmed_) +
                               " message(s) sent before the connection was lost were never"
                               " confirmed");
    } else {
      finish(exit_ok);
    }
    co_return;
  }
  co_await leave();
}

// Input is over. The server handles a connection's frames in order and
// closes it only after a quit, having flushed what it owes us; so once it
// has closed, every line sent before the quit was taken. No acks needed.
awaitable<void> terminal_session::leave() {
  if (!quit_sent_) {
    quit_sent_ = true;
    const std::shared_ptr<link> to = link_;
    if (!co_await to->out.send(protocol::encode_bare_request("quit"))) co_return;
  }
  if (status_) co_return;  // already closed: nothing to wait for
  close_timer_.expires_after(close_grace);
  const auto [ec] = co_await close_timer_.async_wait(asio::as_tuple(use_awaitable));
  if (!ec) finish(exit_failure, "the server did not close the connection after quit");
}

awaitable<void> terminal_session::await_room_answer() {
  while (awaiting_room_answer_ && !status_) {
    room_answer_.expires_at(asio::steady_timer::time_point::max());
    co_await room_answer_.async_wait(asio::as_tuple(use_awaitable));
  }
}

awaitable<void> terminal_session::await_online() {
  while (!online_ && !status_) {
    online_signal_.expires_at(asio::steady_timer::time_point::max());
    co_await online_signal_.async_wait(asio::as_tuple(use_awaitable));
  }
}

// The connection is gone and we are to come back: wait, connect, log in,
// until it works or the session ends.
awaitable<void> terminal_session::reconnect(std::string why) {
  const std::string reason = shutdown_seen_ ? "the server shut down"
                             : why.empty()  ? "the server closed the connection"
                                            : why;
  // A loss during the previous reconnect's restoring keeps its aim.
  if (online_) wanted_rooms_ = where_.rooms();
  lost_unconfirmed_ = seen_.unconfirmed();
  drop_link();
  if (lost_unconfirmed_ != 0) {
    notice("* " + std::to_string(lost_unconfirmed_) +
           " message(s) you sent were not yet confirmed when the connection was lost; the"
           " server's replay shows those it kept");
  }
  std::string text = "* connection lost (" + reason + "); reconnecting in ";
  for (;;) {
    const auto wait = std::max<std::chrono::milliseconds>(backoff_.next(), retry_hint_);
    retry_hint_ = std::chrono::milliseconds(0);
    notice(text + format_wait(wait));
    retry_timer_.expires_after(wait);
    co_await retry_timer_.async_wait(asio::as_tuple(use_awaitable));
    if (status_) co_return;
    std::string failure;
    if (co_await open_link(failure)) {
      shutdown_seen_ = false;
      if (co_await log_in(/*again=*/true, failure) == login_result::ok) co_return;
      if (status_) co_return;
      drop_link();
    }
    if (status_) co_return;
    text = "* reconnect failed (" + failure + "); retrying in ";
  }
}

// Closes the current link for good; a new one replaces it.
void terminal_session::drop_link() {
  online_ = false;
  seen_.connection_lost();
  pongs_.clear();
  pending_accounts_.clear();
  awaiting_room_answer_ = false;
  room_answer_.cancel();
  // Wakes input waiting for this link to go (see relay_input).
  online_signal_.cancel();
  if (link_) {
    link_->out.close();
    link_->conn.close();
    retired_.push_back(std::move(link_));
  }
  std::erase_if(retired_,
                [](const std::shared_ptr<link>& l) { return l.use_count() == 1 && l->out.idle(); });
}

awaitable<received> terminal_session::receive() {
  const std::shared_ptr<link> from = link_;
  received in;
  try {
    in.frame = co_await from->conn.read_frame();
  } catch (const std::exception& e) {
    in.failure = e.what();
  }
  co_return in;
}

awaitable<std::optional<line_buffer::line>> terminal_session::read_input() {
  std::string failure;
  try {
    co_return co_await input_.read_line();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  finish(exit_failure, "cannot read standard input: " + failure);
  co_return std::nullopt;
}

void terminal_session::show(const server_event& event, std::string_view frame) {
  print(opts_.json ? std::string(frame) : render_event(event, frame, where_));
}

void terminal_session::reply(const local_reply& answer) {
  // In --json mode stdout carries envelopes only.
  if (opts_.json) {
    complain(answer.text);
  } else {
    print(answer.text);
  }
}

// The client's own news ("* reconnected"): on stdout among the chat, on
// stderr in --json mode, where stdout carries envelopes only.
void terminal_session::notice(std::string_view text) {
  if (!opts_.json) {
    print(text);
    return;
  }
  if (text.starts_with("* ")) text.remove_prefix(2);
  complain(text);
}

void terminal_session::print(std::string_view line) {
  if (!print_line(stdout, line)) {
    finish(exit_failure, std::string("cannot write standard output: ") + std::strerror(errno));
  }
}

void terminal_session::watch_signals() {
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) signals_.add(signal_number);
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    // The shell's convention for "ended by a signal".
    if (!ec) finish(128 + signal_number);
  });
}

void terminal_session::finish(int status, std::string_view complaint) {
  if (status_) return;
  status_ = status;
  echo_.reset();
  if (!complaint.empty()) complain(complaint);
  // Each of these ends the operation pending on it, and the closed ones
  // refuse new work, so every coroutine winds down and io.run() returns.
  input_.close();
  close_timer_.cancel();
  room_answer_.cancel();
  retry_timer_.cancel();
  online_signal_.cancel();
  signals_.cancel();
  if (link_) {
    link_->out.close();
    link_->conn.close();
  }
}

void prepare_process() {
  // With fd 0 closed, the first descriptor we open (the reactor's) would be
  // taken for standard input.
  if (::fcntl(STDIN_FILENO, F_GETFD) == -1 && errno == EBADF) {
    ::open("/dev/null", O_RDONLY);  // lowest free descriptor: 0
  }
  // A reader of our stdout that goes away (`chat-client | head -1`) is an
  // error to report and clean up after, not a reason to die on the spot.
  ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

int run_terminal_session(const options& opts) {
  prepare_process();
  asio::io_context io(1);
  terminal_session session(io, opts);
  asio::co_spawn(io, session.run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  try {
    io.run();
  } catch (const std::exception& e) {
    complain(std::string("internal error: ") + e.what());
    return exit_failure;
  }
  return session.exit_status();
}

}  // namespace chat::client
