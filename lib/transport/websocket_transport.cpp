#include "transport/websocket_transport.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include <sys/uio.h>

#include "transport/http_upgrade.hpp"
#include "transport/tcp_transport.hpp"
#include "transport/tls_transport.hpp"

namespace chat::transport {

namespace asio = boost::asio;
namespace websocket = protocol::websocket;

template <class Lower>
websocket_transport<Lower>::websocket_transport(Lower lower, const websocket_settings& settings)
    : lower_(std::move(lower)),
      upgrade_(std::make_unique<http_upgrade>(settings)),
      reader_(settings.max_message) {}

template <class Lower>
websocket_transport<Lower>::websocket_transport(websocket_transport&&) noexcept = default;
template <class Lower>
websocket_transport<Lower>::~websocket_transport() = default;

template <class Lower>
std::size_t websocket_transport<Lower>::write_bytes(const std::string& bytes,
                                                    boost::system::error_code& ec) {
  const iovec one{const_cast<char*>(bytes.data()), bytes.size()};
  return lower_.write_gathered({&one, 1}, ec);
}

template <class Lower>
boost::system::error_code websocket_transport<Lower>::handshake() {
  boost::system::error_code ec;
  if constexpr (Lower::negotiates) {
    if (!lower_ready_) {
      ec = lower_.handshake();
      if (ec == asio::error::would_block) want_ = lower_.handshake_wait();
      if (ec) return ec;
      lower_ready_ = true;
    }
  }
  for (;;) {
    if (!handshake_output_.empty()) {
      // After would_block the same response is written again, from where
      // it stands: what TLS needs of a retried write.
      const std::size_t sent = write_bytes(handshake_output_, ec);
      if (ec == asio::error::would_block) want_ = lower_.write_wait();
      if (ec) return ec;
      handshake_output_.erase(0, sent);
      if (!handshake_output_.empty()) continue;
      // Its buffer goes too: an idle connection keeps nothing of the upgrade.
      std::string().swap(handshake_output_);
      if (upgrade_ != nullptr) {
        // Answered, not upgraded: the exchange is over.
        lower_.shutdown_send();
        return asio::error::eof;
      }
      return {};
    }
    // The request arrives into a small buffer of the handshake's own: the
    // thread's read buffer belongs to the session reader.
    std::array<char, 2048> input;
    const std::size_t n = lower_.read_some(input, ec);
    if (ec == asio::error::would_block) want_ = lower_.read_wait();
    if (ec) return ec;
    switch (upgrade_->put({input.data(), n})) {
      case http_upgrade::verdict::need_more: continue;
      case http_upgrade::verdict::answer: handshake_output_ = upgrade_->response(); continue;
      case http_upgrade::verdict::upgrade:
        handshake_output_ = upgrade_->response();
        early_input_ = upgrade_->leftover();
        upgrade_.reset();
        // Frames that came with the request are read at once, and so is
        // what TLS may still hold past a full buffer: the socket would not
        // say it is readable for either.
        filled_ = !early_input_.empty() || lower_.may_have_more(n, input.size());
        continue;
    }
  }
}

template <class Lower>
std::size_t websocket_transport<Lower>::read_some(std::span<char> into,
                                                  boost::system::error_code& ec) {
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
    if (early_input_.empty()) early_input_.shrink_to_fit();
    // What Lower holds comes after; with TLS it may be more than the
    // socket says.
    filled_ = true;
  } else {
    n = lower_.read_some(into.first(room), ec);
    if (ec) return 0;
    filled_ = lower_.may_have_more(n, room);
  }
  const websocket::frame_reader::output out = reader_.read(into, n);
  // One pong waits at most: a client that pings and never reads must not
  // grow this without bound. RFC 6455 (5.5.3) lets a server answer only
  // some of many pings. While Lower holds a write to be repeated as it was,
  // nothing may go before it: the pong is owed until it is through.
  if (out.pong_due || pong_owed_) {
    pong_owed_ = !control_.empty() || lower_.write_pending();
    if (!pong_owed_) {
      control_ = websocket::encode_pong(reader_.pong_payload());
      flush_control();
    } else if (!control_.empty()) {
      pong_owed_ = false;  // the one waiting answers for it
    }
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

template <class Lower>
void websocket_transport<Lower>::flush_control() noexcept {
  if (control_.empty() || header_written_ != 0) return;
  // A write Lower holds is repeated only with its own bytes: control_'s,
  // when that write was this one.
  if (lower_.write_pending() && !control_pending_) return;
  boost::system::error_code ec;
  const std::size_t sent = write_bytes(control_, ec);
  control_pending_ = ec == asio::error::would_block;
  control_.erase(0, sent);
}

template <class Lower>
std::size_t websocket_transport<Lower>::write_some(std::span<const server::frame> frames,
                                                   std::size_t skip_first,
                                                   boost::system::error_code& ec) {
  // Built per call in per-thread arrays: there is no suspension between
  // filling them and the write. A line takes two slots (its header and its
  // text), the control frame one. Past Lower's limit (one TLS record) no
  // more lines are framed.
  struct piece {
    enum kind_type : std::uint8_t { control, header, text } kind;
    bool ends_with_newline = false;
  };
  thread_local std::array<iovec, IOV_MAX> iov;
  thread_local std::array<piece, IOV_MAX> pieces;
  thread_local std::array<std::array<char, websocket::max_header_bytes>, IOV_MAX / 2> headers;
  // A pong owed while the last write was held goes first, unless that write
  // is being repeated now: it began otherwise.
  if (pong_owed_ && control_.empty() && !lower_.write_pending() && header_written_ == 0) {
    pong_owed_ = false;
    control_ = websocket::encode_pong(reader_.pong_payload());
  }
  std::size_t count = 0;
  std::size_t lines = 0;
  std::size_t bytes = 0;
  if (!control_.empty() && header_written_ == 0) {
    iov[count] = {control_.data(), control_.size()};
    pieces[count++] = {piece::control};
    bytes += control_.size();
  }
  const auto full = [&] {
    return count + 2 > iov.size() || lines == headers.size() || bytes >= Lower::write_limit;
  };
  bool first_line = true;
  for (std::size_t f = 0; f < frames.size(); ++f) {
    const std::string& frame_bytes = *frames[f];
    std::size_t from = f == 0 ? skip_first : 0;
    // The line `from` is in starts after the newline before it.
    std::size_t line_start = 0;
    if (from > 0) {
      const std::size_t newline = frame_bytes.rfind('\n', from - 1);
      line_start = newline == std::string::npos ? 0 : newline + 1;
    }
    while (line_start < frame_bytes.size()) {
      if (full()) break;
      const std::size_t newline = frame_bytes.find('\n', line_start);
      const std::size_t end = newline == std::string::npos ? frame_bytes.size() : newline;
      const std::size_t text_size = end - line_start;
      char* header = headers[lines++].data();
      const std::size_t header_size = websocket::encode_text_header(
          text_size,
          std::span<char, websocket::max_header_bytes>(header, websocket::max_header_bytes));
      const std::size_t header_done = first_line ? header_written_ : 0;
      const std::size_t text_done = first_line ? from - line_start : 0;
      // A header all out goes no more: then a long text is the first piece,
      // which TLS writes from where it is rather than copying it.
      if (header_done < header_size) {
        iov[count] = {header + header_done, header_size - header_done};
        pieces[count++] = {piece::header};
      }
      iov[count] = {const_cast<char*>(frame_bytes.data() + line_start + text_done),
                    text_size - text_done};
      pieces[count++] = {piece::text, newline != std::string::npos};
      bytes += header_size - header_done + text_size - text_done;
      first_line = false;
      line_start = end + 1;
    }
    if (full()) break;
  }

  const std::size_t sent = lower_.write_gathered({iov.data(), count}, ec);
  control_pending_ = false;
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

template <class Lower>
void websocket_transport<Lower>::shutdown_send() noexcept {
  if (!close_sent_ && upgrade_ == nullptr) {
    close_sent_ = true;
    // Appended: a held write of control_ still begins with the same bytes.
    control_ += websocket::encode_close(close_code_, close_reason_);
    flush_control();
  }
  lower_.shutdown_send();
}

template class websocket_transport<tcp_transport>;
template class websocket_transport<tls_transport>;

}  // namespace chat::transport
