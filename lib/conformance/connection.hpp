#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace chat::conformance {

// One client's TCP connection, driven a step at a time: every call blocks
// until its work is done or its deadline passes. Asio's synchronous calls
// cannot time out, so each call starts an async operation on a private
// io_context and runs that context until the deadline (the approach of
// Asio's blocking_tcp_client example). Steps run one after another, so no
// two operations are ever pending at once.
class connection {
public:
  using clock = std::chrono::steady_clock;

  // The longest frame the server may send before the connection is judged
  // broken; it keeps a misbehaving server from growing our buffer forever.
  static constexpr std::size_t max_frame = 1 << 20;

  struct received {
    enum class kind { frame, closed, timed_out, failed };
    kind what = kind::timed_out;
    // frame: the line, LF removed. closed: bytes of a line the server never
    // finished, if any.
    std::string text;
    boost::system::error_code error;  // failed: why; closed: eof or reset
  };

  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  boost::system::error_code connect(const std::string& host, std::uint16_t port,
                                    clock::time_point deadline);
  boost::system::error_code send(std::string_view bytes, clock::time_point deadline);

  // The next complete frame; once the server has closed, `closed` after the
  // frames it sent before closing.
  received receive(clock::time_point deadline);

  // Abrupt close, as a client that just goes away.
  void close();

  // Orderly goodbye: half-close, then discard frames until the server closes
  // too or the deadline passes. Once the server has closed, it has handled our
  // leaving (the name is free again), so the next transcript can reuse it.
  void finish(clock::time_point deadline);

private:
  // Runs the one pending operation until it completes or `deadline` passes;
  // on timeout cancels it and waits for its handler. True if it completed.
  bool run_until(clock::time_point deadline);

  boost::asio::io_context context_;
  boost::asio::ip::tcp::socket socket_{context_};
  boost::asio::ip::tcp::resolver resolver_{context_};
  // Received bytes not yet returned as frames.
  std::string pending_;
  std::array<char, 64 * 1024> chunk_{};
  // Set at EOF or reset: later receives drain pending_, then report the close.
  bool peer_closed_ = false;
  boost::system::error_code close_reason_;
};

}  // namespace chat::conformance
