#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error_code.hpp"
#include "protocol/line_framer.hpp"
#include "protocol/request.hpp"
#include "server/config.hpp"
#include "server/member.hpp"

namespace chat::accounts {
class account_service;
struct result;
}  // namespace chat::accounts

namespace chat::server {

class hub;

// One client's side of the protocol, without any I/O: the handshake, the
// wire form, the current room, the message bucket, the keepalive and the
// request handlers. It is given input as it arrives and the time; it answers
// through deliver() and asks its session for a close.
//
// The session (session.hpp) owns the transport and the coroutines; a test
// can drive a conversation with no socket at all.
class conversation : public member, public std::enable_shared_from_this<conversation> {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  // Thread-safe: tells the client the server is going down, flushes what is
  // queued and closes.
  virtual void shutdown() = 0;
  // Thread-safe: tells the client the server is going down (and to
  // reconnect, elsewhere or later), and goes on serving it until shutdown():
  // a draining server spreads its closes out.
  virtual void warn_of_shutdown() = 0;

  // Where the client connects from, before begin(): passwords are taken over
  // an `encrypted` transport or from `loopback` (or anywhere, when the
  // configuration allows plain-text passwords); `address` is what failed
  // logins are throttled by.
  void set_peer(std::string address, bool loopback, bool encrypted);
  // Before begin(), for a transport that carries messages (WebSocket): the
  // client speaks JSON from its first message, and is sent no plain-text
  // prompt.
  void carry_messages() noexcept;

protected:
  // `accounts` is null when the server keeps none (no --data-dir).
  conversation(hub& hub, const config& cfg, time_point now,
               accounts::account_service* accounts = nullptr);
  ~conversation() override;

  // The transport is ready for the protocol: the client is asked its name.
  void begin();
  // A read brought input: the client is alive, whatever it sent.
  void heard_from_client(time_point now) noexcept;
  // Handles the lines of `input` until the turn is used up (so that one
  // flooding client cannot starve the others); returns the bytes consumed.
  std::size_t on_input(std::string_view input, time_point now);

  // When the deadlines (handshake, keepalive, linger) next need a look.
  time_point next_deadline() const noexcept;
  // Acts on whatever deadline has passed by `now`.
  void on_deadline(time_point now);

  bool logged_in() const noexcept { return logged_in_; }
  bool closing() const noexcept { return closing_; }
  // The close has begun: the name is free, no more input is read, and
  // whatever is queued has until the linger deadline to go out.
  void begin_closing(time_point now);
  void leave_hub();
  // The name is no longer this session's: left, taken over or dismissed.
  void end_login() noexcept;

  void send(std::string bytes);
  void send_error(protocol::error_code code, std::string_view message);
  // USER again, after a login that did not happen (nothing for JSON-only
  // clients, which know to send a hello).
  void prompt();
  // The form spoken until a login succeeds.
  protocol::session_mode handshake_mode() const noexcept;

  // The history writer settled every id up to `through` (stored or not):
  // the acks of those messages go out, or storage-unavailable errors; input
  // paused for the writer goes on once it is no longer `backlogged`. Returns
  // whether the session still waits for the writer.
  bool on_commit(std::uint64_t through, bool stored, bool backlogged);
  // A message sent was too much for the history writer: read no more input
  // until on_commit() says it caught up.
  // Input is also held while a password is being checked: what the client
  // sent after it waits for the verdict.
  bool input_paused() const noexcept { return input_paused_ || account_pending_; }

  // The session's part. close_after_flush() calls begin_closing() and lets
  // the writer flush; stop() closes at once; deadlines_changed() is told
  // when next_deadline() moved earlier than the session may expect.
  virtual void close_after_flush() = 0;
  virtual void stop() = 0;
  virtual void deadlines_changed() = 0;
  // From now on on_commit() is to be called after each batch the history
  // writer settles, until it returns false.
  virtual void watch_commits() = 0;
  // on_commit() or an account's verdict ended a pause: the reader may go on.
  virtual void resume_input() = 0;
  // Runs `job` on the session's own thread and strand, later; from any thread.
  virtual void run_in_session(std::function<void()> job) = 0;
  // The hub gave this member's name to a new login of the same account: on
  // the session's strand, tell the client and close.
  void on_displaced();
  // Moderation (conversation_moderation.cpp): put out of a room, the current
  // room is chosen again; ended by a server operator, told and closed. Both
  // go on the session's strand.
  void removed_from_room() override;
  void dismissed(frame last) override;

  const config& config_;

private:
  // Handles one complete line; false once the session should read no more.
  bool on_line(protocol::line_framer::event event, std::string_view line);
  void on_handshake(std::string_view line);
  // One handler per request (conversation_requests.cpp); false once the
  // session should read no more.
  bool handle(protocol::request::message& request);
  bool handle(protocol::request::direct& request);
  bool handle(protocol::request::join& request);
  bool handle(protocol::request::leave& request);
  bool handle(protocol::request::who& request);
  bool handle(protocol::request::topic& request);
  bool handle(protocol::request::nick& request);
  bool handle(protocol::request::history& request);
  bool handle(protocol::request::resume& request);
  bool handle(protocol::request::register_account& request);
  bool handle(protocol::request::change_password& request);
  bool handle(protocol::request::unregister_account& request);
  bool handle(protocol::request::kick& request);
  bool handle(protocol::request::ban& request);
  bool handle(protocol::request::unban& request);
  bool handle(protocol::request::mute& request);
  bool handle(protocol::request::unmute& request);
  bool handle(protocol::request::bans& request);
  bool handle(protocol::request::op& request);
  bool handle(protocol::request::invite& request);
  bool handle(protocol::request::mode& request);
  bool handle(protocol::request::kill& request);
  bool handle(protocol::request::rooms& request);
  bool handle(protocol::request::ping& request);
  bool handle(protocol::request::pong& request);
  bool handle(protocol::request::quit& request);
  bool handle(protocol::request::help& request);
  // The room a request means: the one it names, else the current room.
  const std::string& room_of(const std::string& named) const;
  // Takes a token from the message bucket; false (and an error sent) when empty.
  bool within_rate_limit();
  void send_not_in_room(std::string_view room);
  // Sends a refusal of the hub as an error frame.
  void send_refusal(protocol::error_code code, const std::string& message,
                    const std::optional<std::uint64_t>& retry_after_s);
  // Sends the hub's verdict (a hub::verdict) if it is a refusal; true, as
  // handlers return to go on.
  template <class Verdict>
  bool answer(const Verdict& no) {
    if (no) send_refusal(no->code, no->message, no->retry_after_s);
    return true;
  }
  // The room a moderation request means, or null (not-in-room sent).
  const std::string* moderated_room(const std::string& named);
  // Acks message `id` now, or once it is stored (with a database).
  void acknowledge(std::uint64_t id, std::string ref_json, bool kept);

  // Accounts (conversation_accounts.cpp). Each check runs on the account
  // service's threads with input held; `then` runs on the session's strand.
  void check_password(protocol::hello hello, std::string password);
  void create_and_log_in(protocol::hello hello, std::string password);
  enum class login_as { guest, account, new_account };
  void complete_login(protocol::hello& hello, login_as as);
  // Holds input until the verdict, which runs `then` on the session's strand
  // (unless the session is closing by then) and lets input go on.
  std::function<void(accounts::result)> await_account(
      std::function<void(const accounts::result&)> then);
  // Why passwords cannot be taken here, sent as an error; false when they can.
  bool refuse_account_request(protocol::session_mode reply_mode);
  void send_account_error(protocol::session_mode reply_mode, std::string_view name,
                          const accounts::result& result);

  hub& hub_;
  // The transport carries messages: JSON only (carry_messages()).
  bool json_only_ = false;
  accounts::account_service* const accounts_;
  protocol::line_framer framer_;
  const time_point accepted_at_;
  time_point last_heard_;  // the last input from the client
  time_point ping_sent_;   // valid while awaiting_pong_
  time_point close_by_;    // valid while closing_
  // When the turn being handled began: the clock of the rate limit.
  time_point turn_started_;
  bool awaiting_pong_ = false;
  // Message token bucket.
  double tokens_;
  time_point tokens_at_;
  bool logged_in_ = false;
  bool closing_ = false;
  // Accounts: the client's address and whether it may send passwords; the
  // plain handshake's name waiting for its password line; a check in
  // flight; logged in to the account of name_.
  std::string peer_address_;
  bool passwords_welcome_ = false;
  std::optional<protocol::hello> awaiting_password_;
  bool account_pending_ = false;
  bool account_ = false;
  // Where plain messages go: the room joined last, or set with /join.
  std::string current_room_;
  // Messages sent and not yet settled by the history writer, in id order.
  struct unsettled {
    std::uint64_t id;
    std::string ref_json;  // empty: no ack asked for
    // A room message, kept in history; a direct message has only its id
    // stored and is acked whatever becomes of it.
    bool kept;
  };
  std::vector<unsettled> unsettled_;
  bool input_paused_ = false;
};

}  // namespace chat::server
