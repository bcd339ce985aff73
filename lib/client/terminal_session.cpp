#include "client/terminal_session.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/connection.hpp"
#include "client/input_action.hpp"
#include "client/input_reader.hpp"
#include "client/outbox.hpp"
#include "client/render.hpp"
#include "client/server_event.hpp"
#include "client/session_state.hpp"
#include "protocol/error_code.hpp"
#include "protocol/event.hpp"

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

bool is_name_refusal(const server_event& event) {
  return event.type == server_event::kind::error &&
         (event.code == protocol::to_string(protocol::error_code::bad_name) ||
          event.code == protocol::to_string(protocol::error_code::name_taken));
}

class terminal_session {
public:
  terminal_session(asio::io_context& io, const options& opts)
      : opts_(opts),
        executor_(io.get_executor()),
        input_(executor_, STDIN_FILENO, max_input_line),
        close_timer_(executor_),
        room_answer_(executor_),
        signals_(executor_),
        interactive_(::isatty(STDIN_FILENO) == 1) {}

  awaitable<void> run();

  int exit_status() const noexcept { return status_.value_or(exit_failure); }

private:
  awaitable<bool> log_in();
  awaitable<std::optional<std::string>> ask_name(bool first);
  awaitable<void> relay_server();
  awaitable<void> relay_input();
  awaitable<void> leave();
  awaitable<void> await_room_answer();

  awaitable<std::optional<std::string>> receive();
  awaitable<std::optional<line_buffer::line>> read_input();
  awaitable<bool> send(std::string_view frame);

  void show(const server_event& event, std::string_view frame);
  void reply(const local_reply& answer);
  void print(std::string_view line);
  void watch_signals();
  void finish(int status, std::string_view complaint = {});

  const options& opts_;
  asio::any_io_executor executor_;
  input_reader input_;
  std::optional<connection> connection_;  // empty until connected
  // Every write goes through it: typed lines and pongs must not overlap.
  std::optional<outbox> outbox_;
  // Our rooms and the current one, as the server's answers tell them.
  session_state where_;
  // Bounds the wait for the server to close once we have asked it to.
  asio::steady_timer close_timer_;
  // Never expires; cancelled when the answer to a join or leave is in.
  asio::steady_timer room_answer_;
  // A join or leave went out, followed by a ping, and the pong has not come
  // back: typed lines wait, as they may be meant for the room it makes
  // current. The server answers a connection's requests in order, so the
  // pong comes after the answer, whichever it was (joined, left, an error).
  bool awaiting_room_answer_ = false;
  // Ctrl-C and friends end the session through finish(), so that stdin gets
  // its file status flags back (see input_reader) instead of dying with them.
  asio::signal_set signals_;
  // A person at a terminal, who can be asked for another name.
  const bool interactive_;
  // We asked the server to end the session: its closing is the expected end.
  bool quit_sent_ = false;
  // The server announced it is going away: its closing is the expected end.
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
  std::string failure;
  try {
    connection connected =
        co_await connection::connect(executor_, opts_.host, opts_.port, opts_.tls);
    connection_.emplace(std::move(connected));
    outbox_.emplace(executor_, *connection_);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!connection_) {
    finish(exit_failure, failure);
    co_return;
  }
  connection_->enable_keepalive();
  // Only now: while connecting, the default action ends a client that has
  // nothing to clean up, and ends it at once.
  watch_signals();
  if (!co_await log_in() || status_) co_return;

  // Input and output run side by side until one of them calls finish().
  asio::co_spawn(executor_, relay_input(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  co_await relay_server();
}

awaitable<bool> terminal_session::log_in() {
  using kind = server_event::kind;
  bool first_name = true;
  for (;;) {
    const auto frame = co_await receive();
    if (status_) co_return false;
    if (!frame) {
      finish(exit_failure, "the server closed the connection during login");
      co_return false;
    }
    const server_event event = decode_server_event(*frame);
    if (event.type == kind::prompt) {
      const auto name = co_await ask_name(first_name);
      first_name = false;
      if (status_) co_return false;
      if (!name) {
        finish(exit_failure, "no user name given");
        co_return false;
      }
      // A failed write shows up in the read that follows.
      co_await send(protocol::encode_hello_request(*name));
      continue;
    }
    if (event.type == kind::error) {
      // The server sends USER again after a refused name: a person can try
      // another one; a script cannot, so it gets a clear failure instead.
      if (is_name_refusal(event) && interactive_) {
        show(event, *frame);
        continue;
      }
      if (opts_.json) show(event, *frame);
      finish(exit_failure, "login refused: " + event.text + " (" + event.code + ")");
      co_return false;
    }
    where_.apply(event);
    show(event, *frame);
    if (event.type == kind::welcome) co_return true;
  }
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

awaitable<void> terminal_session::relay_server() {
  for (;;) {
    const auto frame = co_await receive();
    if (status_) co_return;
    if (!frame) {
      if (quit_sent_ || shutdown_seen_) {
        finish(exit_ok);
      } else {
        finish(exit_failure, "the server closed the connection");
      }
      co_return;
    }
    const server_event event = decode_server_event(*frame);
    if (event.type == server_event::kind::ping) {
      // Answered here, in both modes, and not shown: the server drops a JSON
      // client that stays silent, and a person or a script has nothing to
      // do with it.
      outbox_->post(protocol::encode_pong());
      continue;
    }
    if (event.type == server_event::kind::pong && awaiting_room_answer_) {
      // Our own ping, sent after a join or leave: not shown.
      awaiting_room_answer_ = false;
      room_answer_.cancel();
      continue;
    }
    if (event.type == server_event::kind::shutdown) shutdown_seen_ = true;
    where_.apply(event);
    show(event, *frame);
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
    const input_action action = interpret_input(line->text, mode, where_.current_room());
    if (const auto* answer = std::get_if<local_reply>(&action)) {
      reply(*answer);
      continue;
    }
    const auto& request = std::get<send_frame>(action);
    std::string frame = request.frame;
    // Set before writing: the server may close, or answer, before the write
    // completes.
    if (request.quits) quit_sent_ = true;
    if (request.changes_room) {
      awaiting_room_answer_ = true;
      frame.append(protocol::encode_bare_request("ping"));
    }
    // A failed write ends input; the reader reports the failure once it has
    // shown whatever the server said last (a slow-consumer error, a shutdown).
    if (!co_await send(frame)) co_return;
    if (request.quits) break;
    co_await await_room_answer();
    if (status_) co_return;
  }
  co_await leave();
}

// Input is over. The server handles a connection's frames in order and
// closes it only after a quit, having flushed what it owes us; so once it
// has closed, every line sent before the quit was taken. No acks needed.
awaitable<void> terminal_session::leave() {
  if (!quit_sent_) {
    quit_sent_ = true;
    if (!co_await send(protocol::encode_bare_request("quit"))) co_return;
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

awaitable<std::optional<std::string>> terminal_session::receive() {
  std::string failure;
  try {
    co_return co_await connection_->read_frame();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  // Once the server has announced its shutdown, a reset is one way to go.
  if (shutdown_seen_) {
    finish(exit_ok);
  } else {
    finish(exit_failure, "connection to the server lost: " + failure);
  }
  co_return std::nullopt;
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

// False when the connection is broken both ways; the pending or next read
// says why.
awaitable<bool> terminal_session::send(std::string_view frame) {
  co_return co_await outbox_->send(frame);
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
  if (!complaint.empty()) complain(complaint);
  // Each of these ends the operation pending on it, and the closed ones
  // refuse new work, so every coroutine winds down and io.run() returns.
  input_.close();
  close_timer_.cancel();
  room_answer_.cancel();
  signals_.cancel();
  if (outbox_) outbox_->close();
  if (connection_) connection_->close();
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
