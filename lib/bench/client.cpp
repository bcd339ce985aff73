#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <system_error>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "bench/engine.hpp"
#include "bench/frame_text.hpp"
#include "bench/json_fields.hpp"
#include "bench/tls_stream.hpp"
#include "bench/ws_stream.hpp"
#include "client/server_event.hpp"
#include "protocol/event.hpp"

namespace chat::bench::detail {

namespace {

using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The client coroutines are templates over the stream, instantiated for a
// plain socket, for TLS over it and for WebSocket (over either): the choice is
// made once per coroutine, never per read or write (but for WebSocket's
// layer beneath). A stream offers read_available() (everything the kernel or
// TLS has now, without blocking) and send_bytes().

std::size_t read_available(tcp::socket& socket, asio::mutable_buffer into,
                           boost::system::error_code& ec) {
  return socket.read_some(into, ec);
}

// Writes `bytes` as they are to what carries the stream; `bytes` must live
// until the write completes.
auto send_bytes(tcp::socket& socket, std::string_view bytes) {
  return asio::async_write(socket, asio::buffer(bytes), use_tuple);
}
auto send_bytes(tls_stream& tls, std::string_view bytes) {
  return asio::async_write(tls.stream, asio::buffer(bytes), use_tuple);
}
auto send_bytes(ws_stream& ws, std::string_view bytes) {
  return ws.tls != nullptr ? send_bytes(*ws.tls, bytes) : send_bytes(ws.socket, bytes);
}

// What goes on the wire for `frames` (LF-ended lines): the lines, or each
// of them in a WebSocket frame.
std::string_view outgoing(tcp::socket&, const std::string& frames) { return frames; }
std::string_view outgoing(tls_stream&, const std::string& frames) { return frames; }
std::string_view outgoing(ws_stream& ws, const std::string& frames) { return ws.frame(frames); }

// Whether the stream may hold input it took from the socket already, which
// the socket will not signal: TLS takes whole records.
constexpr bool holds_input(const tcp::socket&) { return false; }
constexpr bool holds_input(const tls_stream&) { return true; }
bool holds_input(const ws_stream& ws) { return ws.tls != nullptr; }

// Whether a read of `count` bytes into `size` came up short, so that the
// stream has nothing left.
constexpr bool came_up_short(const tcp::socket&, std::size_t count, std::size_t size) {
  return count < size;
}
constexpr bool came_up_short(const tls_stream&, std::size_t count, std::size_t size) {
  return count < size;
}
bool came_up_short(const ws_stream& ws, std::size_t, std::size_t) { return !ws.filled; }

// A write of this size keeps the kernel busy without holding a sender's
// probe back for long.
constexpr std::size_t batch_bytes = 64 * 1024;
// Reads per wake-up before the other clients of the thread get their turn.
constexpr int reads_per_turn = 4;

std::string describe(const boost::system::error_code& ec) { return std::error_code(ec).message(); }

void fail(client& c, const std::string& reason) {
  if (c.done) return;
  c.done = true;
  c.run.record_failure(c.name + ": " + reason);
}

void free_login_slot(client& c) {
  --c.home.logins_in_flight;
  c.home.login_slot_freed.cancel();
}

void note_login(client& c) {
  c.logged_in = true;
  run_state& run = c.run;
  const std::uint64_t now = run.now_ns();
  std::uint64_t last = run.last_login_ns.load(std::memory_order_relaxed);
  while (last < now &&
         !run.last_login_ns.compare_exchange_weak(last, now, std::memory_order_relaxed)) {
  }
  run.logged_in.fetch_add(1, std::memory_order_release);
  free_login_slot(c);
}

// The frames before the welcome: USER, then the server's verdict on the name.
void on_handshake_frame(client& c, std::string_view frame) {
  const bool json = c.run.opts.json;
  if (frame == "USER") {
    if (c.hello_sent) {
      fail(c, "the server refused the name" +
                  (c.last_error.empty() ? std::string() : " (" + c.last_error + ")"));
      return;
    }
    c.reply = json ? protocol::encode_hello_request(c.name) : c.name + "\n";
    c.hello_sent = true;
    return;
  }
  if (!json) {
    // A refused name gets "! error ..." and USER again; whatever else follows
    // the name is the welcome ("* welcome ..." from our server). Taking any
    // such line also lets the rig's bare fan-out server stand in for ours to
    // show the generator's own ceiling.
    if (!c.hello_sent) return;
    if (frame.starts_with("!")) c.last_error = frame;
    else note_login(c);
    return;
  }
  // The welcome lists everyone in the room: with thousands logged in it is
  // long, so only its type is looked at.
  const std::string_view type = envelope_type(frame);
  if (type == "welcome") {
    note_login(c);
  } else if (type == "error") {
    const auto event = ::chat::client::decode_server_event(frame);
    c.last_error = event.code + ": " + event.text;
  }
}

// An ack for `ref`: the sender's oldest awaited ack, unless some were passed
// over (those never come: acks are in the order of the messages).
void on_ack(client& c, std::uint64_t ref, std::uint64_t now) {
  auto& awaiting = c.awaiting_acks;
  std::uint64_t passed_over = 0;
  while (!awaiting.empty() && awaiting.front().seq < ref) {
    awaiting.pop_front();
    ++passed_over;
  }
  if (passed_over != 0) {
    c.acks_passed_over.store(c.acks_passed_over.load(std::memory_order_relaxed) + passed_over,
                             std::memory_order_relaxed);
  }
  if (awaiting.empty() || awaiting.front().seq != ref) {
    ++c.acks_unexpected;
    return;
  }
  const std::uint64_t sent_ns = awaiting.front().sent_ns;
  awaiting.pop_front();
  c.home.ack_latencies.record(now > sent_ns ? now - sent_ns : 0);
  c.acks_received.store(c.acks_received.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
}

void on_traffic_frame(client& c, std::string_view frame, std::uint64_t now) {
  shard& home = c.home;
  const classified_frame seen =
      c.run.opts.json ? classify_json_frame(frame, home.scratch) : classify_plain_frame(frame);
  switch (seen.kind) {
    case frame_kind::message: {
      const tally::outcome outcome = c.counts.on_message(seen.text);
      if (outcome.what == tally::verdict::delivered || outcome.what == tally::verdict::late) {
        home.last_delivery_ns = now;
        // 0: the sender left this one unstamped.
        if (outcome.sent_ns != 0) {
          home.latencies.record(now > outcome.sent_ns ? now - outcome.sent_ns : 0);
        }
      }
      break;
    }
    case frame_kind::error:
      if (c.server_errors++ == 0) c.first_server_error = frame;
      break;
    case frame_kind::ack: on_ack(c, seen.ref, now); break;
    case frame_kind::control: ++c.control_frames; break;
    case frame_kind::malformed: ++c.malformed_frames; break;
  }
}

// Splits a chunk into frames; returns the bytes taken (up to the last LF).
std::size_t on_chunk(client& c, std::string_view chunk, std::uint64_t now) {
  const char* at = chunk.data();
  const char* const end = at + chunk.size();
  while (at < end) {
    const auto* lf = static_cast<const char*>(std::memchr(at, '\n', end - at));
    if (lf == nullptr) break;
    const char* frame_end = (lf > at && lf[-1] == '\r') ? lf - 1 : lf;
    if (frame_end > at) {
      const std::string_view frame(at, static_cast<std::size_t>(frame_end - at));
      if (c.logged_in) on_traffic_frame(c, frame, now);
      else on_handshake_frame(c, frame);
      if (c.done) return chunk.size();
    }
    at = lf + 1;
  }
  return static_cast<std::size_t>(at - chunk.data());
}

// After each chunk: what the controller and the probed sender wait on.
void publish(client& c) {
  c.received_published.store(c.counts.received(), std::memory_order_relaxed);
  c.control_published.store(c.control_frames, std::memory_order_relaxed);
  if (c.counts.warmed_up() && !c.warmed_up.load(std::memory_order_relaxed)) {
    c.warmed_up.store(true, std::memory_order_relaxed);
  }
  client* const sender = c.probed_sender;
  if (sender == nullptr) return;
  const std::uint64_t seen = c.counts.highest_seen(*sender->slot);
  if (seen == c.probe_seen.load(std::memory_order_relaxed)) return;
  // Sequentially consistent, pairing with the sender's store to `waiting`
  // and load of `probe_seen`: one of the two sees the other.
  c.probe_seen.store(seen);
  if (!sender->waiting.exchange(false)) return;
  if (&sender->home == &c.home) {
    // Same thread: the sender is parked in its wait right now.
    sender->wake.cancel();
  } else {
    asio::post(sender->home.io, [sender] { sender->wake.cancel(); });
  }
}

void fail_read(client& c, const boost::system::error_code& ec) {
  // Without close_notify, TLS calls the end a truncation.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    fail(c, "the server closed the connection" +
                (c.last_error.empty() && c.first_server_error.empty()
                     ? std::string()
                     : " after: " +
                           (c.first_server_error.empty() ? c.last_error : c.first_server_error)));
  } else {
    fail(c, describe(ec));
  }
}

// Reads until the connection ends: the handshake first, then traffic.
template <class Stream>
asio::awaitable<void> read_loop(client& c, Stream& stream) {
  shard& home = c.home;
  run_state& run = c.run;
  // Whether the stream has nothing left, so that the socket is waited for.
  // TLS starts with what came in behind the handshake.
  bool drained = !holds_input(stream);
  for (;;) {
    if (drained) {
      auto [wait_error] = co_await c.socket.async_wait(tcp::socket::wait_read, use_tuple);
      if (run.stopping.load(std::memory_order_relaxed) || c.done) co_return;
      if (wait_error) {
        fail(c, describe(wait_error));
        co_return;
      }
    } else {
      // The other clients of the thread get their turn before this one reads on.
      co_await asio::post(home.io, asio::use_awaitable);
      if (run.stopping.load(std::memory_order_relaxed) || c.done) co_return;
    }
    // A socket that a full read left readable is signalled again, so plain
    // TCP waits after every turn; TLS only once a read comes up short.
    drained = !holds_input(stream);
    for (int turn = 0; turn < reads_per_turn; ++turn) {
      // The unfinished frame of the previous read goes in front of this one.
      const std::size_t carried = c.carry.size();
      std::memcpy(home.read_buffer.data(), c.carry.data(), carried);
      boost::system::error_code ec;
      const std::size_t count = read_available(
          stream, asio::buffer(home.read_buffer.data() + carried, home.read_size), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        drained = true;
        break;
      }
      if (ec) {
        fail_read(c, ec);
        co_return;
      }
      home.bytes_in.store(home.bytes_in.load(std::memory_order_relaxed) + count,
                          std::memory_order_relaxed);
      ++home.reads;
      const std::uint64_t now = run.now_ns();
      const std::string_view chunk(home.read_buffer.data(), carried + count);
      const std::size_t taken = on_chunk(c, chunk, now);
      if (c.done) co_return;
      if (chunk.size() - taken > home.max_frame) {
        fail(c, "the server sent a frame longer than " + std::to_string(home.max_frame) + " bytes");
        co_return;
      }
      c.carry.assign(chunk.substr(taken));
      publish(c);
      if (!c.reply.empty()) {
        auto [write_error, written] = co_await send_bytes(stream, outgoing(stream, c.reply));
        if (run.stopping.load(std::memory_order_relaxed)) co_return;
        if (write_error) {
          fail(c, describe(write_error));
          co_return;
        }
        home.bytes_out += written;
        c.reply.clear();
      }
      if (came_up_short(stream, count, home.read_size)) {
        drained = true;
        break;
      }
    }
  }
}

// The TLS handshake, counted in the connect time as a TLS client's is.
asio::awaitable<bool> start_tls(client& c) {
  c.tls = std::make_unique<tls_stream>(c.socket, *c.run.tls);
  auto [ec] = co_await c.tls->stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (c.run.stopping.load(std::memory_order_relaxed)) co_return false;
  if (ec) {
    fail(c, describe_handshake_failure(*c.tls, ec));
    co_return false;
  }
  co_return true;
}

// The upgrade, counted in the connect time as a browser's is; then the hello
// at once, since a WebSocket session sends no USER prompt. With --tls, inside
// the TLS stream, once its handshake is done.
asio::awaitable<bool> start_websocket(client& c) {
  c.ws = std::make_unique<ws_stream>(c.socket, c.tls.get());
  const std::string request =
      websocket_upgrade_request(c.run.opts.host + ":" + std::to_string(c.run.opts.ports[c.target]));
  auto [write_error, written] = co_await send_bytes(*c.ws, request);
  std::string response;
  if (!write_error) {
    auto read_head = [&] {
      return c.tls ? asio::async_read_until(c.tls->stream, asio::dynamic_buffer(response),
                                            "\r\n\r\n", use_tuple)
                   : asio::async_read_until(c.socket, asio::dynamic_buffer(response), "\r\n\r\n",
                                            use_tuple);
    };
    auto [read_error, head] = co_await read_head();
    write_error = read_error;
    // The server says nothing before the hello: nothing follows the head.
    if (!read_error && head != response.size()) write_error = asio::error::invalid_argument;
  }
  if (c.run.stopping.load(std::memory_order_relaxed)) co_return false;
  if (write_error || !response.starts_with("HTTP/1.1 101 ")) {
    fail(c, "the WebSocket upgrade failed: " +
                (write_error ? describe(write_error) : response.substr(0, response.find('\r'))));
    co_return false;
  }
  c.reply = protocol::encode_hello_request(c.name);
  auto [hello_error, hello_written] = co_await send_bytes(*c.ws, c.ws->frame(c.reply));
  c.reply.clear();
  if (hello_error) {
    fail(c, describe(hello_error));
    co_return false;
  }
  c.hello_sent = true;
  co_return true;
}

// One client's whole life: connect, log in, read until the run stops.
asio::awaitable<void> client_main(client& c) {
  boost::system::error_code ec;
  const asio::ip::tcp::endpoint& endpoint = c.run.endpoints[c.target];
  c.socket.open(endpoint.protocol(), ec);
  if (!ec) {
    auto [connect_error] = co_await c.socket.async_connect(endpoint, use_tuple);
    ec = connect_error;
  }
  if (c.run.stopping.load(std::memory_order_relaxed)) co_return;
  if (ec) {
    fail(c, "cannot connect: " + describe(ec));
    free_login_slot(c);
    co_return;
  }
  // Senders write whole batches; without this a latency probe would wait on
  // Nagle's algorithm.
  c.socket.set_option(tcp::no_delay(true), ec);
  bool started = true;
  if (c.run.tls) started = co_await start_tls(c);
  if (started && c.run.opts.ws) started = co_await start_websocket(c);
  if (!started) {
    free_login_slot(c);
    co_return;
  }
  // Reads are attempted until the kernel has nothing more (see read_loop).
  // Asynchronous operations are unaffected.
  c.socket.non_blocking(true, ec);
  // WebSocket first: with --tls it is over the TLS stream.
  if (c.ws) co_await read_loop(c, *c.ws);
  else if (c.tls) co_await read_loop(c, *c.tls);
  else co_await read_loop(c, c.socket);
  if (!c.logged_in) free_login_slot(c);
}

// Appends `count` messages of `c` to its batch, sequence numbers from
// `first_seq`, sent `now`. Every `stamp_every`th carries the time: reading a
// long number back costs a receiver more than the rest of the frame, and a
// sixteenth of the deliveries is plenty for percentiles under full load.
// With --acks the stamped ones carry a ref too, and wait for their ack.
void fill_batch(client& c, std::uint64_t first_seq, std::uint64_t count, std::uint64_t now,
                std::uint64_t stamp_every) {
  const options& opts = c.run.opts;
  c.batch.clear();
  std::uint64_t asked = 0;
  for (std::uint64_t seq = first_seq; seq < first_seq + count; ++seq) {
    const std::uint64_t sent_ns = seq % stamp_every == 0 ? std::max<std::uint64_t>(now, 1) : 0;
    const bool with_ref = opts.acks && sent_ns != 0;
    append_message_request(c.batch, opts.json, opts.payload, c.run.run,
                           stamp{*c.slot, seq, sent_ns}, with_ref);
    if (with_ref) {
      c.awaiting_acks.push_back({seq, sent_ns});
      ++asked;
    }
  }
  if (asked != 0) {
    c.acks_asked.store(c.acks_asked.load(std::memory_order_relaxed) + asked,
                       std::memory_order_relaxed);
  }
}

// Writes the batch; false when the run is over for this sender.
template <class Stream>
asio::awaitable<bool> write_batch(client& c, Stream& stream) {
  auto [ec, written] = co_await send_bytes(stream, outgoing(stream, c.batch));
  if (c.run.stopping.load(std::memory_order_relaxed)) co_return false;
  if (ec) {
    fail(c, describe(ec));
    co_return false;
  }
  c.home.bytes_out += written;
  co_return true;
}

// Parks the sender until its probe reports progress, or 50 ms have passed
// (a safety net only: the probe wakes it).
asio::awaitable<void> wait_for_probe(client& c, std::uint64_t sent) {
  c.waiting.store(true);
  if (sent - std::min(sent, c.probe->probe_seen.load()) < c.run.opts.window) {
    c.waiting.store(false);
    co_return;
  }
  c.wake.expires_after(std::chrono::milliseconds(50));
  co_await c.wake.async_wait(use_tuple);
  c.waiting.store(false);
}

}  // namespace

void log_exception(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat-bench: internal error: %s\n", e.what());
  }
}

shard::shard(std::size_t read_size_, std::size_t max_frame_, bool alone)
    : io(alone ? BOOST_ASIO_CONCURRENCY_HINT_UNSAFE : BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO),
      keep_running(asio::make_work_guard(io)),
      read_buffer(max_frame_ + read_size_),
      read_size(read_size_),
      max_frame(max_frame_) {}

run_state::run_state(const options& o, const run_id& r)
    : opts(o),
      run(r),
      origin(std::chrono::steady_clock::now()),
      tls(o.tls ? std::make_unique<tls_settings>(o) : nullptr) {}

run_state::~run_state() = default;

void run_state::record_failure(const std::string& reason) {
  if (stopping.load(std::memory_order_relaxed)) return;
  failed.fetch_add(1, std::memory_order_release);
  const std::lock_guard lock(failure_mutex);
  if (first_failure.empty()) first_failure = reason;
}

client::client(run_state& r, shard& s, std::size_t i, std::string n,
               std::optional<std::uint32_t> sender_slot)
    : run(r),
      home(s),
      index(i),
      name(std::move(n)),
      socket(s.io),
      slot(sender_slot),
      counts(r.run, r.opts.payload, r.senders, r.max_seq, sender_slot),
      wake(s.io) {}

client::~client() = default;

asio::awaitable<void> spawn_clients(shard& s) {
  for (client* c : s.members) {
    while (s.logins_in_flight >= s.max_logins_in_flight) {
      if (c->run.stopping.load(std::memory_order_relaxed)) co_return;
      s.login_slot_freed.expires_after(std::chrono::milliseconds(100));
      co_await s.login_slot_freed.async_wait(use_tuple);
    }
    if (c->run.stopping.load(std::memory_order_relaxed)) co_return;
    ++s.logins_in_flight;
    asio::co_spawn(s.io, client_main(*c), log_exception);
  }
}

template <class Stream>
asio::awaitable<void> windowed_sender(client& c, Stream& stream) {
  const options& opts = c.run.opts;
  const std::uint64_t per_write =
      std::max<std::uint64_t>(1, batch_bytes / message_request_size(opts.json, opts.payload));
  std::uint64_t sent = 0;
  while (sent < opts.messages && !c.run.stopping.load(std::memory_order_relaxed) && !c.done) {
    const std::uint64_t seen = std::min(sent, c.probe->probe_seen.load(std::memory_order_acquire));
    const std::uint64_t in_flight = sent - seen;
    if (in_flight >= opts.window) {
      co_await wait_for_probe(c, sent);
      continue;
    }
    const std::uint64_t count =
        std::min({opts.window - in_flight, per_write, opts.messages - sent});
    fill_batch(c, sent + 1, count, c.run.now_ns(), 16);
    sent += count;
    // Counted before the write: receivers may see the batch before the
    // write completes, and must never seem to get more than was sent.
    c.sent.store(sent, std::memory_order_relaxed);
    const bool written = co_await write_batch(c, stream);
    if (!written) break;
  }
  c.sending_done.store(true, std::memory_order_release);
}

asio::awaitable<void> send_windowed(client& c) {
  if (c.ws) return windowed_sender(c, *c.ws);
  if (c.tls) return windowed_sender(c, *c.tls);
  return windowed_sender(c, c.socket);
}

template <class Stream>
asio::awaitable<void> rate_sender(client& c, Stream& stream) {
  const options& opts = c.run.opts;
  const auto start = std::chrono::steady_clock::now();
  const double period_ns = 1e9 / opts.rate;
  std::uint64_t sent = 0;
  while (sent < opts.messages && !c.run.stopping.load(std::memory_order_relaxed) && !c.done) {
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const double elapsed_ns =
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
    // Messages due by now; a late tick catches up in one write.
    const auto due = std::min<std::uint64_t>(
        opts.messages, static_cast<std::uint64_t>(elapsed_ns / period_ns) + 1);
    if (due > sent) {
      fill_batch(c, sent + 1, due - sent, c.run.now_ns(), 1);
      sent = due;
      c.sent.store(sent, std::memory_order_relaxed);
      const bool written = co_await write_batch(c, stream);
      if (!written) break;
    }
    const auto next_due =
        std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(sent) * period_ns));
    c.wake.expires_at(start + next_due);
    co_await c.wake.async_wait(use_tuple);
  }
  c.sending_done.store(true, std::memory_order_release);
}

asio::awaitable<void> send_at_rate(client& c) {
  if (c.ws) return rate_sender(c, *c.ws);
  if (c.tls) return rate_sender(c, *c.tls);
  return rate_sender(c, c.socket);
}

template <class Stream>
asio::awaitable<bool> warm_up_sender(client& c, Stream& stream) {
  const options& opts = c.run.opts;
  c.batch.clear();
  append_message_request(c.batch, opts.json, opts.payload, c.run.run, stamp{*c.slot, 0, 0});
  co_return co_await write_batch(c, stream);
}

asio::awaitable<bool> send_warm_up(client& c) {
  if (c.ws) return warm_up_sender(c, *c.ws);
  if (c.tls) return warm_up_sender(c, *c.tls);
  return warm_up_sender(c, c.socket);
}

void close_client(client& c) noexcept {
  boost::system::error_code ignored;
  c.wake.cancel();
  if (!c.socket.is_open()) return;
  c.socket.set_option(asio::socket_base::linger(true, 0), ignored);
  c.socket.close(ignored);
}

}  // namespace chat::bench::detail
