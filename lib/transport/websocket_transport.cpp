#include "transport/websocket_transport.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include <sys/uio.h>

#include "transport/gathered_send.hpp"
#include "transport/http_upgrade.hpp"

namespace chat::transport {

namespace asio = boost::asio;
namespace websocket = protocol::websocket;

namespace {

std::size_t send_bytes(int fd, const std::string& bytes, boost::system::error_code& ec) {
  iovec one{const_cast<char*>(bytes.data()), bytes.size()};
  return send_gathered(fd, &one, 1, ec);
}

}  // namespace

websocket_transport::websocket_transport(socket_type socket, const websocket_settings& settings)
    : socket_(std::move(socket)),
      upgrade_(std::make_unique<http_upgrade>(settings)),
      reader_(settings.max_message) {}

websocket_transport::websocket_transport(websocket_transport&&) noexcept = default;
websocket_transport::~websocket_transport() = default;

bool websocket_transport::prepare(boost::system::error_code& ec) {
  socket_.non_blocking(true, ec);
  return !ec;
}

boost::system::error_code websocket_transport::handshake() {
  boost::system::error_code ec;
  for (;;) {
    if (!handshake_output_.empty()) {
      const std::size_t sent = send_bytes(socket_.native_handle(), handshake_output_, ec);
      if (ec == asio::error::would_block) want_ = socket_type::wait_write;
      if (ec) return ec;
      handshake_output_.erase(0, sent);
      if (!handshake_output_.empty()) continue;
      // Its buffer goes too: an idle connection keeps nothing of the upgrade.
      std::string().swap(handshake_output_);
      if (upgrade_ != nullptr) {
        // Answered, not upgraded: the exchange is over.
        socket_.shutdown(socket_type::shutdown_send, ec);
        return asio::error::eof;
      }
      return {};
    }
    // The request arrives into a small buffer of the handshake's own: the
    // thread's read buffer belongs to the session reader.
    std::array<char, 2048> input;
    const std::size_t n = socket_.read_some(asio::buffer(input), ec);
    if (ec == asio::error::would_block) want_ = socket_type::wait_read;
    if (ec) return ec;
    switch (upgrade_->put({input.data(), n})) {
      case http_upgrade::verdict::need_more: continue;
      case http_upgrade::verdict::answer: handshake_output_ = upgrade_->response(); continue;
      case http_upgrade::verdict::upgrade:
        handshake_output_ = upgrade_->response();
        early_input_ = upgrade_->leftover();
        upgrade_.reset();
        continue;
    }
  }
}

std::size_t websocket_transport::read_some(std::span<char> into, boost::system::error_code& ec) {
  ec = {};
  if (closed_by_reader_) {
    ec = asio::error::eof;
    return 0;
  }
  // One byte of room after the input: the frame reader may need it for
  // the newline that ends a message.
  const std::size_t room = into.size() - 1;
  std::size_t n = 0;
  if (!early_input_.empty()) {
    n = std::min(room, early_input_.size());
    std::memcpy(into.data(), early_input_.data(), n);
    early_input_.erase(0, n);
    filled_ = !early_input_.empty();
    if (!filled_) early_input_.shrink_to_fit();
  } else {
    n = socket_.read_some(asio::buffer(into.data(), room), ec);
    if (ec) return 0;
    filled_ = n == room;
  }
  const websocket::frame_reader::output out = reader_.read(into, n);
  // One pong waits at most: a client that pings and never reads must not
  // grow this without bound. RFC 6455 (5.5.3) lets a server answer only
  // some of many pings.
  if (out.pong_due && control_.empty()) {
    control_ = websocket::encode_pong(reader_.pong_payload());
    flush_control();
  }
  if (out.close) {
    closed_by_reader_ = true;
    // Text that came before the end is handed out first; then the next
    // read, at once rather than after a wait for input that may never
    // come, says eof.
    filled_ = out.text_bytes != 0;
    // A client's close is answered with a plain one; a violation with its code.
    close_code_ = out.violation ? *out.close : websocket::close_code::normal;
    close_reason_ = out.violation ? std::string(out.reason) : std::string();
    if (out.text_bytes == 0) ec = asio::error::eof;
  }
  return out.text_bytes;
}

void websocket_transport::flush_control() noexcept {
  if (control_.empty() || header_written_ != 0) return;
  boost::system::error_code ec;
  const std::size_t sent = send_bytes(socket_.native_handle(), control_, ec);
  control_.erase(0, sent);
}

std::size_t websocket_transport::write_some(std::span<const server::frame> frames,
                                            std::size_t skip_first, boost::system::error_code& ec) {
  // Built per call in per-thread arrays: there is no suspension between
  // filling them and the system call. A line takes two slots (its header
  // and its text), the control frame one.
  struct piece {
    enum kind_type : std::uint8_t { control, header, text } kind;
    bool ends_with_newline = false;
  };
  thread_local std::array<iovec, IOV_MAX> iov;
  thread_local std::array<piece, IOV_MAX> pieces;
  thread_local std::array<std::array<char, websocket::max_header_bytes>, IOV_MAX / 2> headers;
  std::size_t count = 0;
  std::size_t lines = 0;
  if (!control_.empty() && header_written_ == 0) {
    iov[count] = {control_.data(), control_.size()};
    pieces[count++] = {piece::control};
  }
  bool first_line = true;
  for (std::size_t f = 0; f < frames.size(); ++f) {
    const std::string& bytes = *frames[f];
    std::size_t from = f == 0 ? skip_first : 0;
    // The line `from` is in starts after the newline before it.
    std::size_t line_start = 0;
    if (from > 0) {
      const std::size_t newline = bytes.rfind('\n', from - 1);
      line_start = newline == std::string::npos ? 0 : newline + 1;
    }
    while (line_start < bytes.size()) {
      if (count + 2 > iov.size() || lines == headers.size()) break;
      const std::size_t newline = bytes.find('\n', line_start);
      const std::size_t end = newline == std::string::npos ? bytes.size() : newline;
      const std::size_t text_size = end - line_start;
      char* header = headers[lines++].data();
      const std::size_t header_size = websocket::encode_text_header(
          text_size,
          std::span<char, websocket::max_header_bytes>(header, websocket::max_header_bytes));
      const std::size_t header_done = first_line ? header_written_ : 0;
      const std::size_t text_done = first_line ? from - line_start : 0;
      iov[count] = {header + header_done, header_size - header_done};
      pieces[count++] = {piece::header};
      iov[count] = {const_cast<char*>(bytes.data() + line_start + text_done),
                    text_size - text_done};
      pieces[count++] = {piece::text, newline != std::string::npos};
      first_line = false;
      line_start = end + 1;
    }
    if (count + 2 > iov.size() || lines == headers.size()) break;
  }

  const std::size_t sent = send_gathered(socket_.native_handle(), iov.data(), count, ec);
  if (ec) return 0;
  // Which pieces went out, in frame bytes: a text's bytes, and its newline
  // once the whole line is out.
  std::size_t left = sent;
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t taken = std::min(left, iov[i].iov_len);
    left -= taken;
    switch (pieces[i].kind) {
      case piece::control: control_.erase(0, taken); break;
      case piece::header: header_written_ += static_cast<std::uint8_t>(taken); break;
      case piece::text:
        consumed += taken;
        if (taken == iov[i].iov_len) {
          if (pieces[i].ends_with_newline) ++consumed;
          header_written_ = 0;
        }
        break;
    }
    if (taken < iov[i].iov_len) break;
  }
  return consumed;
}

void websocket_transport::shutdown_send() noexcept {
  if (!close_sent_ && upgrade_ == nullptr) {
    close_sent_ = true;
    control_ += websocket::encode_close(close_code_, close_reason_);
    flush_control();
  }
  boost::system::error_code ignored;
  socket_.shutdown(socket_type::shutdown_send, ignored);
}

void websocket_transport::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace chat::transport
