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

// WebSocket (RFC 6455) on a TCP socket, driven by readiness waits like
// tcp_transport: the HTTP upgrade is its handshake, after which each text
// message the client sends reaches the session as one line, and each line the
// session writes goes out as one text message.
//
// Not Beast's websocket::stream: that one keeps its buffers and its state
// machine per connection for its whole life and wants to own the reads; here
// an idle connection costs the frame reader's few hundred bytes, frames are
// decoded in the thread's read buffer, and a write gathers every queued line
// with its frame header into one sendmsg. Beast parses the HTTP request.
class websocket_transport {
public:
  static constexpr const char* name = "websocket";
  // The HTTP upgrade comes before the first message.
  static constexpr bool negotiates = true;
  static constexpr bool encrypted = false;
  // Messages, not a byte stream: the session speaks JSON only, and sends no
  // plain-text prompts.
  static constexpr bool carries_messages = true;

  // `settings` must outlive the transport (the server's).
  websocket_transport(socket_type socket, const websocket_settings& settings);
  websocket_transport(websocket_transport&&) noexcept;
  websocket_transport& operator=(websocket_transport&&) = delete;
  ~websocket_transport();

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& socket() noexcept { return socket_; }

  bool prepare(boost::system::error_code& ec);

  // One step of the upgrade: no error once the connection speaks WebSocket,
  // would_block while it waits for the socket (handshake_wait()), eof once
  // a plain HTTP request was answered (or a bad upgrade refused), else why
  // it failed.
  boost::system::error_code handshake();
  wait_type handshake_wait() const noexcept { return want_; }

  // Message text, each message ending in '\n', decoded in place in `into`.
  // eof when the client closed, or broke the protocol (then the close code
  // to send says how; shutdown_send() sends it).
  std::size_t read_some(std::span<char> into, boost::system::error_code& ec);
  bool may_have_more(std::size_t, std::size_t) const noexcept { return filled_; }
  wait_type read_wait() const noexcept { return socket_type::wait_read; }

  // Writes as much of `frames` (the first from `skip_first` on) as the kernel
  // takes in one gathered system call, each line of them a text message.
  // Returns how much of the frames went out, counting a line's '\n' (which
  // its frame header stands for) once the whole line has.
  std::size_t write_some(std::span<const server::frame> frames, std::size_t skip_first,
                         boost::system::error_code& ec);
  wait_type write_wait() const noexcept { return socket_type::wait_write; }

  // Sends the close frame (if the socket takes it now) and ends the stream.
  void shutdown_send() noexcept;
  void close() noexcept;

private:
  // Sends control_ now if no message is half written; what the socket does
  // not take is sent ahead of the next frames.
  void flush_control() noexcept;

  socket_type socket_;
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
  bool closed_by_reader_ = false;
  bool close_sent_ = false;
  bool filled_ = false;
};

}  // namespace chat::transport
