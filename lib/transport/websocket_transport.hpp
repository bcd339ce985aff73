#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <boost/system/error_code.hpp>

#include "protocol/websocket.hpp"
#include "server/frame.hpp"
#include "transport/stream.hpp"

namespace chat::transport {

class http_upgrade;
struct websocket_settings;
class tcp_transport;
class tls_transport;

// WebSocket (RFC 6455) over a byte layer, `Lower`: tcp_transport for the
// HTTP port, tls_transport for the HTTPS port. Driven by readiness waits like
// the others: the HTTP upgrade is its handshake (after the TLS handshake, if
// Lower has one), after which each text message the client sends reaches the
// session as one line, and each line the session writes goes out as one text
// message.
//
// What it needs of Lower: prepare, handshake (when Lower::negotiates),
// read_some and may_have_more, write_gathered (the bytes of several pieces
// in order, as many as it takes now), write_pending (a write would block and
// must be repeated with the same first bytes: TLS), the waits, shutdown_send
// and close. The upgrade and the framing are written here once for both
// (websocket_transport.cpp instantiates the two).
//
// Not Beast's websocket::stream: that one keeps its buffers and its state
// machine per connection for its whole life and wants to own the reads; here
// an idle connection costs the frame reader's few hundred bytes (and Lower's
// own: for TLS its SSL object), frames are decoded in the thread's read
// buffer, and a write gathers every queued line with its frame header into
// one sendmsg, or one TLS record. Beast parses the HTTP request.
template <class Lower>
class websocket_transport {
public:
  // The label of chat_connections{transport=...} and of log lines.
  static constexpr const char* name = Lower::encrypted ? "websocket-tls" : "websocket";
  // The HTTP upgrade comes before the first message.
  static constexpr bool negotiates = true;
  static constexpr bool encrypted = Lower::encrypted;
  // Messages, not a byte stream: the session speaks JSON only, and sends no
  // plain-text prompts.
  static constexpr bool carries_messages = true;

  // `settings` must outlive the transport (the server's).
  websocket_transport(Lower lower, const websocket_settings& settings);
  websocket_transport(websocket_transport&&) noexcept;
  websocket_transport& operator=(websocket_transport&&) = delete;
  ~websocket_transport();

  executor_type get_executor() noexcept { return lower_.get_executor(); }
  socket_type& socket() noexcept { return lower_.socket(); }

  bool prepare(boost::system::error_code& ec) { return lower_.prepare(ec); }

  // One step of the upgrade: no error once the connection speaks WebSocket,
  // would_block while it waits for the socket (handshake_wait()), eof once
  // a plain HTTP request was answered (or a bad upgrade refused), else why
  // it failed.
  boost::system::error_code handshake();
  wait_type handshake_wait() const noexcept { return want_; }
  // Frames that came with the upgrade request are read before any wait.
  bool holds_input() const noexcept { return filled_; }

  // Message text, each message ending in '\n', decoded in place in `into`.
  // eof when the client closed, or broke the protocol (then the close code
  // to send says how; shutdown_send() sends it).
  std::size_t read_some(std::span<char> into, boost::system::error_code& ec);
  bool may_have_more(std::size_t, std::size_t) const noexcept { return filled_; }
  wait_type read_wait() const noexcept { return lower_.read_wait(); }

  // Writes as much of `frames` (the first from `skip_first` on) as Lower
  // takes in one gathered write, each line of them a text message. Returns
  // how much of the frames went out, counting a line's '\n' (which its frame
  // header stands for) once the whole line has. After would_block, the next
  // call with the same frames presents Lower with the same bytes first.
  std::size_t write_some(std::span<const server::frame> frames, std::size_t skip_first,
                         boost::system::error_code& ec);
  wait_type write_wait() const noexcept { return lower_.write_wait(); }

  // Sends the close frame (if the socket takes it now) and ends the stream.
  void shutdown_send() noexcept;
  void close() noexcept { lower_.close(); }

private:
  // Sends control_ now if nothing else is half written; what the socket does
  // not take is sent ahead of the next frames.
  void flush_control() noexcept;
  // Writes `bytes` alone (the upgrade's response, control_).
  std::size_t write_bytes(const std::string& bytes, boost::system::error_code& ec);

  Lower lower_;
  // Until the upgrade is done; then released.
  std::unique_ptr<http_upgrade> upgrade_;
  std::string handshake_output_;
  std::string early_input_;  // frames the client sent with its request
  wait_type want_ = socket_type::wait_read;
  protocol::websocket::frame_reader reader_;
  // A pong or the close frame, or what is left of one, to go before any
  // further message.
  std::string control_;
  // Of the first line not yet written: how much of its frame header is out.
  // Non-zero means a message is half written (its header is out before any
  // of its text), and nothing else may go out before the rest of it.
  std::uint8_t header_written_ = 0;
  // The close frame to send: the client's own close is answered with a
  // normal one, a violation with its code and reason.
  protocol::websocket::close_code close_code_ = protocol::websocket::close_code::normal;
  std::string close_reason_;
  bool lower_ready_ = !Lower::negotiates;  // Lower's own handshake is done
  // A ping came while Lower held a write that must be repeated as it was
  // (TLS): its pong goes into control_ once that write is through.
  bool pong_owed_ = false;
  // The write Lower holds is control_ alone, which flush_control may repeat.
  bool control_pending_ = false;
  bool closed_by_reader_ = false;
  bool close_sent_ = false;
  bool filled_ = false;
};

using plain_websocket_transport = websocket_transport<tcp_transport>;
using secure_websocket_transport = websocket_transport<tls_transport>;

}  // namespace chat::transport
