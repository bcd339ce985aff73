#pragma once

// The generator's moving parts, shared by the client coroutines and the run's
// controller. Internal to chat_bench: it pulls in Asio.

#include <atomic>
#include <chrono>
#include <exception>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench/latency_histogram.hpp"
#include "bench/options.hpp"
#include "bench/payload.hpp"
#include "bench/tally.hpp"

namespace chat::bench::detail {

namespace asio = boost::asio;

struct client;
struct run_state;
// chat-bench's TLS (tls_stream.hpp): complete only where it is used, so
// that OpenSSL's headers stay out of this one.
struct tls_settings;
struct tls_stream;
struct ws_stream;

// One generator thread's share of the clients, with everything its readers
// touch on the hot path, so that threads share nothing there.
struct shard {
  // `alone`: the only shard, so nothing reaches it from another thread.
  shard(std::size_t read_size, std::size_t max_frame, bool alone);

  // Every socket and timer of a shard is used on its own thread only, so the
  // reactor needs no locks; the scheduler keeps its lock only when other
  // shards post to it (window wake-ups, the start and the stop).
  asio::io_context io;
  // Keeps run() going while a shard has nothing to do yet (or any more),
  // until the run stops.
  asio::executor_work_guard<asio::io_context::executor_type> keep_running;
  // Every reader of this thread reads here: a chunk is parsed before its
  // reader suspends again, so one buffer serves them all, and an idle client
  // costs no buffer. Room for the longest unfinished frame in front.
  std::vector<char> read_buffer;
  std::size_t read_size;
  std::size_t max_frame;
  // For JSON message texts with escapes; reused to spare an allocation.
  std::string scratch;
  latency_histogram latencies;
  // --acks: from a message's send to its sender's ack.
  latency_histogram ack_latencies;
  // Steady-clock nanoseconds of the read that brought the last delivery.
  std::uint64_t last_delivery_ns = 0;
  // Read by the controller to see the input settle.
  std::atomic<std::uint64_t> bytes_in{0};
  std::uint64_t bytes_out = 0;
  std::uint64_t reads = 0;  // with bytes_in: are reads large enough?
  std::vector<client*> members;
  // Bounds the connects and logins in flight.
  unsigned logins_in_flight = 0;
  unsigned max_logins_in_flight = 1;
  asio::steady_timer login_slot_freed{io};
};

// What the controller and the clients share.
struct run_state {
  // Throws when the TLS settings cannot be used.
  run_state(const options& o, const run_id& r);
  ~run_state();

  std::uint64_t now_ns() const noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now() - origin)
                                          .count());
  }
  // Records a connection's failure, unless the run is stopping anyway.
  void record_failure(const std::string& reason);

  const options& opts;
  const run_id run;
  // Send stamps and delivery times count from here.
  const std::chrono::steady_clock::time_point origin;
  // Resolved once: a lookup per connection would be measured as connect time.
  // One for each of opts.ports, in their order.
  std::vector<asio::ip::tcp::endpoint> endpoints;
  std::unique_ptr<tls_settings> tls;  // with --tls only
  std::vector<std::unique_ptr<shard>> shards;
  std::vector<std::unique_ptr<client>> clients;
  std::uint32_t senders = 0;
  // Sequence numbers past this are damage, not deliveries.
  std::uint64_t max_seq = 0;

  // Set before the sockets are closed: what fails after it is no failure.
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> logged_in{0};
  std::atomic<std::uint64_t> failed{0};
  // When the last client logged in: the end of the connect measurement.
  std::atomic<std::uint64_t> last_login_ns{0};
  std::mutex failure_mutex;  // guards first_failure
  std::string first_failure;
};

// One connection to the server and the roles it plays.
struct client {
  // `sender_slot` is set when the client sends.
  client(run_state& r, shard& s, std::size_t i, std::string n,
         std::optional<std::uint32_t> sender_slot);
  ~client();

  run_state& run;
  shard& home;  // every operation of the client runs on its thread
  const std::size_t index;
  const std::string name;
  asio::ip::tcp::socket socket;
  // Over the socket once it is connected, with --tls.
  std::unique_ptr<tls_stream> tls;
  // Over the socket once it is upgraded, with --ws.
  std::unique_ptr<ws_stream> ws;
  bool receiver = false;  // its deliveries count towards the expected
  // Where it connects: an index into opts.ports and run.endpoints.
  std::size_t target = 0;
  const std::optional<std::uint32_t> slot;
  // The receiver whose progress bounds this sender's window.
  client* probe = nullptr;
  // The sender this client is the probe of.
  client* probed_sender = nullptr;
  tally counts;

  // Handshake state.
  bool hello_sent = false;
  bool logged_in = false;
  bool done = false;       // failed: nothing more is read or counted
  std::string reply;       // a handshake frame to send once the chunk is parsed
  std::string last_error;  // why a name was refused, for the failure message

  // An unfinished frame, kept between reads.
  std::string carry;
  // The sender's batch of frames, reused from write to write.
  std::string batch;
  // Frames that are no message, for the report.
  std::uint64_t control_frames = 0;
  std::uint64_t malformed_frames = 0;
  std::uint64_t server_errors = 0;
  std::string first_server_error;

  // Published for the controller and the sender it probes, once per chunk.
  std::atomic<std::uint64_t> received_published{0};
  std::atomic<std::uint64_t> probe_seen{0};
  std::atomic<bool> warmed_up{false};
  // control_frames, published likewise: a receiver still reading its join
  // backlog is on its way to the warm-up message.
  std::atomic<std::uint64_t> control_published{0};
  // Published by the sender with each write.
  std::atomic<std::uint64_t> sent{0};
  std::atomic<bool> sending_done{false};

  // --acks, a sender's: the messages sent with a ref (its sequence number)
  // and not acked yet, with their send times, oldest first (acks come in
  // order). Touched on the client's thread only.
  struct awaiting_ack {
    std::uint64_t seq;
    std::uint64_t sent_ns;
  };
  std::deque<awaiting_ack> awaiting_acks;
  // Published for the controller: refs sent, acks that came, and awaited
  // acks passed over by a later one (never to come, as acks are in order).
  std::atomic<std::uint64_t> acks_asked{0};
  std::atomic<std::uint64_t> acks_received{0};
  std::atomic<std::uint64_t> acks_passed_over{0};
  // Acks of no message awaiting one.
  std::uint64_t acks_unexpected = 0;
  // The sender waits here for its window (or its next tick); a probe cancels
  // the wait when `waiting` says it is there.
  asio::steady_timer wake;
  std::atomic<bool> waiting{false};
};

// Connects the clients of `s`, at most max_logins_in_flight at once; each
// then logs in and reads until the run stops.
asio::awaitable<void> spawn_clients(shard& s);

// A sender's measured phase: as many messages as its window allows.
asio::awaitable<void> send_windowed(client& c);
// The latency scenario's sender: --rate messages a second.
asio::awaitable<void> send_at_rate(client& c);
// One warm-up message (sequence 0) from `c`; false when the write failed.
asio::awaitable<bool> send_warm_up(client& c);

// Completion handler for spawned coroutines: `detached` would swallow what
// they throw.
void log_exception(std::exception_ptr error);

// Ends a client's connection with a reset, so repeated runs leave no
// TIME_WAIT behind. Call on its shard's thread.
void close_client(client& c) noexcept;

}  // namespace chat::bench::detail
