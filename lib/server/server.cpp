#include "server/server.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>

#include "accounts/account_service.hpp"
#include "server/commit_watch.hpp"
#include "server/hub.hpp"
#include "server/listener.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"
#include "server/session_registry.hpp"
#include "server/stream_session.hpp"
#include "server/worker.hpp"
#include "store/history_database.hpp"
#include "transport/tcp_transport.hpp"
#include "transport/tls_credentials.hpp"
#include "transport/tls_transport.hpp"
#include "transport/http_upgrade.hpp"
#include "transport/websocket_transport.hpp"
#include "web/assets.hpp"

namespace chat::server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// `Authorization: Bearer TOKEN`, compared in time that does not depend on
// where the first difference is.
bool token_matches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view scheme = "Bearer ";
  if (!authorization.starts_with(scheme)) return false;
  const std::string_view given = authorization.substr(scheme.size());
  if (given.size() != token.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < token.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return difference == 0;
}

// The web client's files load nothing from elsewhere and connect only back to
// this server: a policy that says so keeps a message that somehow became
// markup from running or from sending anything anywhere. no-cache: a page
// of a newer server is never mixed with a cached script of an older one.
constexpr std::string_view web_client_headers =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cache-Control: no-cache\r\n";

}  // namespace

struct server::impl {
  explicit impl(config c)
      : cfg(std::move(c)),
        database(open_database(
            cfg, [this](const store::commit_outcome& outcome) { relay_commit(outcome); })),
        credentials(load_credentials(cfg)),
        account_store(open_accounts(cfg)),
        acceptor(io),
        tls_acceptor(io),
        http_acceptor(io),
        https_acceptor(io),
        signals(io),
        reload_signals(io),
        drain_timer(io),
        hub_({.default_room = cfg.default_room,
              .history_limit = cfg.history,
              .presence_limit = cfg.presence_limit,
              .max_replay_bytes = cfg.max_queue / 4,
              .database = database.get(),
              .operators = cfg.operators,
              .moderation = account_store ? account_store->load_moderation()
                                          : std::vector<accounts::moderation_record>{},
              .persist = persist_to(account_store.get())}),
        registry(cfg.max_clients, cfg.max_per_ip),
        websocket(http_settings("http")),
        secure_websocket(http_settings("https")) {}

  // What the HTTP port serves besides /ws: the web client at /, /healthz says the process
  // answers, /readyz whether it takes new clients (load balancers stop
  // sending them once it says no), /metrics what it has done.
  // The HTTPS port serves the same over TLS: its pages' origin is https.
  transport::websocket_settings http_settings(std::string scheme) {
    transport::websocket_settings settings;
    settings.scheme = std::move(scheme);
    settings.allowed_origins = cfg.allowed_origins;
    settings.max_message = cfg.max_line;
    settings.accepting = &ready;
    settings.routes =
        [this](const transport::http_request& request) -> std::optional<transport::http_response> {
      using transport::http_response;
      const bool get = request.method == "GET" || request.method == "HEAD";
      const auto only_get = [] {
        return http_response{
            .status = 405, .body = "GET or HEAD only\n", .extra_headers = "Allow: GET, HEAD\r\n"};
      };
      if (request.path == "/healthz") {
        return get ? http_response{.status = 200, .body = "ok\n"} : only_get();
      }
      if (request.path == "/readyz") {
        if (!get) return only_get();
        if (ready.load(std::memory_order_relaxed))
          return http_response{.status = 200, .body = "ready\n"};
        return http_response{.status = 503, .body = "shutting down\n"};
      }
      if (request.path == "/metrics") {
        if (!get) return only_get();
        const metrics::gauges now{.history_backlog_bytes = database ? database->backlog_bytes() : 0,
                                  .history = database != nullptr};
        return http_response{.status = 200,
                             .content_type = "text/plain; version=0.0.4; charset=utf-8",
                             .body = metrics::render(now)};
      }
      if (request.path == "/admin/drain" && !cfg.admin_token.empty()) {
        if (request.method != "POST") {
          return http_response{
              .status = 405, .body = "POST only\n", .extra_headers = "Allow: POST\r\n"};
        }
        if (!token_matches(request.authorization, cfg.admin_token)) {
          return http_response{.status = 401,
                               .body = "a bearer token is needed\n",
                               .extra_headers = "WWW-Authenticate: Bearer\r\n"};
        }
        asio::post(control, [this] { begin_drain(); });
        return http_response{.status = 202, .body = "draining\n"};
      }
      if (const web::asset* page = web::find(request.path)) {
        if (!get) return only_get();
        return http_response{.status = 200,
                             .content_type = std::string(page->content_type),
                             .body = std::string(page->body),
                             .extra_headers = std::string(web_client_headers)};
      }
      return std::nullopt;
    };
    return settings;
  }

  static std::unique_ptr<store::history_database> open_database(
      const config& cfg, store::history_database::commit_handler on_commit) {
    if (cfg.data_dir.empty()) return nullptr;
    store::history_options options;
    options.sync =
        cfg.sync == config::sync_mode::batch ? store::sync_mode::batch : store::sync_mode::none;
    options.max_bytes = cfg.history_max_bytes;
    options.max_age = cfg.history_max_age;
    auto database = std::make_unique<store::history_database>(
        cfg.data_dir, [](std::string_view problem) { log(log_level::error, "history: ", problem); },
        options, std::move(on_commit));
    log(log_level::info, "history kept in ", database->path().string());
    return database;
  }

  // On the history writer's thread, after each batch.
  void relay_commit(const store::commit_outcome& outcome) {
    std::lock_guard lock(relay_mutex);
    commit_watch::publish(relay_to, {outcome.through_id, outcome.stored, outcome.backlogged});
  }

  void relay_commits_to(std::vector<asio::io_context*> workers) {
    std::lock_guard lock(relay_mutex);
    relay_to = std::move(workers);
  }

  static bool is_mapped_loopback(const asio::ip::address& peer) {
    return peer.is_v6() && peer.to_v6().is_v4_mapped() &&
           asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6()).is_loopback();
  }

  static std::unique_ptr<accounts::account_service> open_accounts(const config& cfg) {
    if (cfg.data_dir.empty()) return nullptr;
    accounts::options options;
    options.dir = cfg.data_dir;
    options.cost = {.ops = cfg.password_ops, .memory = cfg.password_memory};
    return std::make_unique<accounts::account_service>(
        options, [](std::string_view problem) { log(log_level::error, "accounts: ", problem); });
  }

  // Moderation is kept with the accounts; without them, in memory only.
  static moderation::persist_handler persist_to(accounts::account_service* store) {
    if (store == nullptr) return {};
    return
        [store](accounts::moderation_change change) { store->save_moderation(std::move(change)); };
  }

  static std::unique_ptr<transport::tls_credentials> load_credentials(const config& cfg) {
    // One certificate for the TLS and the HTTPS port: a reload swaps both.
    if (!cfg.tls_port && !cfg.https_port) return nullptr;
    try {
      return std::make_unique<transport::tls_credentials>(
          cfg.cert_file, cfg.key_file,
          [](std::string_view problem) { log(log_level::warn, problem); });
    } catch (const transport::tls_setup_error& e) {
      throw setup_error(e.what());
    }
  }

  // Makes the session of an admitted connection on `transport` and starts it.
  template <class Transport>
  void start_session(Transport transport, const asio::ip::address& peer) {
    auto s = std::make_shared<stream_session<Transport>>(std::move(transport), hub_, registry, cfg,
                                                         account_store.get());
    s->set_peer(peer.to_string(), peer.is_loopback() || is_mapped_loopback(peer),
                Transport::encrypted);
    registry.add(s, peer);
    s->start();
  }

  void reload_certificates() {
    if (!credentials) {
      log(log_level::info, "no TLS certificate to reload");
      return;
    }
    if (auto problem = credentials->reload()) {
      log(log_level::error, "TLS certificate not reloaded, the old one stays: ", *problem);
    } else {
      log(log_level::info, "TLS certificate reloaded from ", cfg.cert_file);
    }
  }

  // The first SIGINT or SIGTERM drains, the next one stops at once.
  void wait_for_stop_signal() {
    signals.async_wait(
        asio::bind_executor(control, [this](boost::system::error_code ec, int signal) {
          if (ec) return;
          log(log_level::info, "signal ", signal, " received");
          if (draining) {
            begin_stop();
            return;
          }
          begin_drain();
          // A drain of nobody, or of no time, has stopped already.
          if (!stopping) wait_for_stop_signal();
        }));
  }

  void wait_for_reload_signal() {
    reload_signals.async_wait(
        asio::bind_executor(control, [this](boost::system::error_code ec, int) {
          if (ec) return;
          reload_certificates();
          wait_for_reload_signal();
        }));
  }

  // New clients are refused from now on. The HTTP and HTTPS ports stay open
  // while the server drains, for /readyz to say 503 to the load balancer
  // (and /metrics to be scraped); they refuse upgrades meanwhile.
  void stop_accepting() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    tls_acceptor.close(ignored);
    ready.store(false, std::memory_order_relaxed);
  }

  // Lame duck: no new clients, every client told at once, and closed a
  // few at a time over cfg.drain so that they do not all reconnect (to
  // the other nodes) in the same instant; then stop as begin_stop() does.
  void begin_drain() {
    if (stopping || draining) return;
    draining = true;
    stop_accepting();
    registry.warn_all();
    drain_began = std::chrono::steady_clock::now();
    drain_total = registry.still_open();
    log(log_level::info, "draining: ", drain_total, " clients closed over ",
        std::chrono::duration<double>(cfg.drain).count(), " s");
    drain_step();
  }

  void drain_step() {
    if (stopping) return;
    constexpr auto step = std::chrono::milliseconds(50);
    const auto elapsed = std::chrono::steady_clock::now() - drain_began;
    if (registry.still_open() == 0 || elapsed >= cfg.drain) {
      begin_stop();
      return;
    }
    // Evenly over the drain: by a fraction of it, that fraction of the
    // clients there were when it began (the last ones at its end).
    const double done = std::chrono::duration<double>(elapsed) / cfg.drain;
    const auto due = static_cast<std::size_t>(static_cast<double>(drain_total) * done);
    if (due > drain_closed) {
      registry.shutdown_some(due - drain_closed);
      drain_closed = due;
    }
    drain_timer.expires_after(step);
    drain_timer.async_wait(asio::bind_executor(control, [this](boost::system::error_code ec) {
      if (!ec) drain_step();
    }));
  }

  void begin_stop() {
    if (stopping) return;
    stopping = true;
    boost::system::error_code ignored;
    stop_accepting();
    http_acceptor.close(ignored);
    https_acceptor.close(ignored);
    drain_timer.cancel();
    signals.cancel(ignored);
    reload_signals.cancel(ignored);
    hub_.close();
    // The acks of what is accepted by now reach their senders before the
    // shutdown notice does: the writer's news is posted ahead of it.
    if (database) database->flush();
    registry.shutdown_all();
    // The other workers' run() may return once their sessions have ended.
    keep_workers_running.clear();
    log(log_level::info, "shutting down");
  }

  config cfg;
  // The workers that hear of the history writer's commits; empty when no
  // worker runs, so that news never reaches a context that is gone.
  std::mutex relay_mutex;
  std::vector<asio::io_context*> relay_to;
  // Declared before the hub, which writes to it, so it outlives the hub.
  std::unique_ptr<store::history_database> database;
  // Null without --tls-port and --https-port.
  std::unique_ptr<transport::tls_credentials> credentials;
  // The first worker, run by the thread that calls run(); it also runs the
  // listener and the control strand.
  asio::io_context io;
  // One io_context per further --threads, each run by a thread of its own:
  // a session's handlers always run on the thread that accepted it, so
  // threads share no scheduler queue and a session's state stays in one
  // core's cache. Threads meet only in the hub and in outboxes.
  std::vector<std::unique_ptr<asio::io_context>> other_workers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_workers_running;
  // Null without --data-dir. Declared after the workers so that it goes
  // first: its threads post verdicts to them until it is destroyed.
  std::unique_ptr<accounts::account_service> account_store;
  tcp::acceptor acceptor;
  tcp::acceptor tls_acceptor;    // open only with --tls-port
  tcp::acceptor http_acceptor;   // open only with --http-port
  tcp::acceptor https_acceptor;  // open only with --https-port
  asio::signal_set signals;
  asio::signal_set reload_signals;
  // Paces the closes of a drain; on the control strand.
  asio::steady_timer drain_timer;
  std::chrono::steady_clock::time_point drain_began;
  std::size_t drain_total = 0;   // clients open when the drain began
  std::size_t drain_closed = 0;  // of them, shut down by the drain so far
  bool draining = false;
  hub hub_;
  session_registry registry;
  // Read by /readyz on any worker thread.
  std::atomic<bool> ready{true};
  const transport::websocket_settings websocket;
  const transport::websocket_settings secure_websocket;  // the HTTPS port's
  // The listener, stop() and the signal wait all run here: they share the
  // acceptor and `stopping`, and io may have several threads.
  asio::strand<asio::io_context::executor_type> control{asio::make_strand(io)};
  bool stopping = false;
};

namespace {

void bind_and_listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint,
                     const std::string& host) {
  try {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    if (endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(false));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    throw std::system_error(e.code(),
                            "cannot listen on " + host + ":" + std::to_string(endpoint.port()));
  }
}

std::string describe(const tcp::endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

server::server(config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
  set_log_level(impl_->cfg.level);
  const auto& settings = impl_->cfg;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(settings.host, ec);
  if (ec) {
    throw std::system_error(ec, "invalid --host '" + settings.host + "' (expected an IP address)");
  }
  bind_and_listen(impl_->acceptor, tcp::endpoint(address, settings.port), settings.host);
  // A history file that reaches the file size limit must fail its write
  // (EFBIG, reported like a full disk), not kill the server.
  if (!settings.data_dir.empty()) std::signal(SIGXFSZ, SIG_IGN);
  if (settings.tls_port) {
    bind_and_listen(impl_->tls_acceptor, tcp::endpoint(address, *settings.tls_port), settings.host);
  }
  if (settings.http_port) {
    bind_and_listen(impl_->http_acceptor, tcp::endpoint(address, *settings.http_port),
                    settings.host);
  }
  if (settings.https_port) {
    bind_and_listen(impl_->https_acceptor, tcp::endpoint(address, *settings.https_port),
                    settings.host);
  }
  // OpenSSL writes to the socket with write(2), which raises SIGPIPE when
  // the peer is gone: that must be an error code, not the end of the server.
  if (impl_->credentials) std::signal(SIGPIPE, SIG_IGN);
}

server::~server() = default;

std::uint16_t server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::uint16_t server::tls_port() const {
  return impl_->tls_acceptor.is_open() ? impl_->tls_acceptor.local_endpoint().port() : 0;
}

std::uint16_t server::http_port() const {
  return impl_->http_acceptor.is_open() ? impl_->http_acceptor.local_endpoint().port() : 0;
}

std::uint16_t server::https_port() const {
  return impl_->https_acceptor.is_open() ? impl_->https_acceptor.local_endpoint().port() : 0;
}

void server::reload_certificates() {
  asio::post(impl_->control, [this] { impl_->reload_certificates(); });
}

void server::stop_on_signals() {
  impl_->signals.add(SIGINT);
  impl_->signals.add(SIGTERM);
  impl_->wait_for_stop_signal();
  impl_->reload_signals.add(SIGHUP);
  impl_->wait_for_reload_signal();
}

void server::stop() {
  asio::post(impl_->control, [this] { impl_->begin_stop(); });
}

void server::drain() {
  asio::post(impl_->control, [this] { impl_->begin_drain(); });
}

void server::run() {
  auto& state = *impl_;
  const unsigned threads = state.cfg.threads != 0
                               ? state.cfg.threads
                               : std::max(1U, std::thread::hardware_concurrency());
  std::vector<asio::io_context*> workers{&state.io};
  for (unsigned i = 1; i < threads; ++i) {
    auto& worker = *state.other_workers.emplace_back(std::make_unique<asio::io_context>(1));
    // Idle until the listener hands it a session, and until stop.
    state.keep_workers_running.push_back(asio::make_work_guard(worker));
    workers.push_back(&worker);
  }
  const auto on_listener_end = [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log(log_level::error, "listener failed: ", e.what());
    }
  };
  asio::co_spawn(state.control,
                 listen(state.acceptor, workers, state.registry, refusal::error_line,
                        [&state](transport::socket_type socket, const asio::ip::address& peer) {
                          state.start_session(transport::tcp_transport(std::move(socket)), peer);
                        }),
                 on_listener_end);
  // Printed whatever the log level: scripts and tests wait for these lines.
  write_log_line(log_level::info, "listening on " + describe(state.acceptor.local_endpoint()));
  // A new TLS connection with the current certificate, or null (logged,
  // and the connection's place given back) when OpenSSL is out of memory.
  const auto new_tls = [&state](const asio::ip::address& peer) -> ssl_st* {
    ssl_st* ssl = state.credentials->new_connection();
    if (ssl == nullptr) {
      log(log_level::error, "TLS connection refused: out of memory");
      state.registry.abandon(peer);
    }
    return ssl;
  };
  if (state.tls_acceptor.is_open()) {
    asio::co_spawn(
        state.control,
        listen(state.tls_acceptor, workers, state.registry, refusal::close,
               [&state, new_tls](transport::socket_type socket, const asio::ip::address& peer) {
                 ssl_st* ssl = new_tls(peer);
                 if (ssl == nullptr) return;
                 state.start_session(transport::tls_transport(std::move(socket), ssl), peer);
               }),
        on_listener_end);
    write_log_line(log_level::info,
                   "listening (tls) on " + describe(state.tls_acceptor.local_endpoint()));
  }

  if (state.http_acceptor.is_open()) {
    // Refused by closing: the error line is not HTTP.
    asio::co_spawn(state.control,
                   listen(state.http_acceptor, workers, state.registry, refusal::close,
                          [&state](transport::socket_type socket, const asio::ip::address& peer) {
                            state.start_session(
                                transport::plain_websocket_transport(
                                    transport::tcp_transport(std::move(socket)), state.websocket),
                                peer);
                          }),
                   on_listener_end);
    write_log_line(log_level::info,
                   "listening (http) on " + describe(state.http_acceptor.local_endpoint()));
  }

  if (state.https_acceptor.is_open()) {
    // The same as the HTTP port, over TLS with the TLS port's certificate.
    asio::co_spawn(
        state.control,
        listen(state.https_acceptor, workers, state.registry, refusal::close,
               [&state, new_tls](transport::socket_type socket, const asio::ip::address& peer) {
                 ssl_st* ssl = new_tls(peer);
                 if (ssl == nullptr) return;
                 state.start_session(
                     transport::secure_websocket_transport(
                         transport::tls_transport(std::move(socket), ssl), state.secure_websocket),
                     peer);
               }),
        on_listener_end);
    write_log_line(log_level::info,
                   "listening (https) on " + describe(state.https_acceptor.local_endpoint()));
  }

  state.relay_commits_to(workers);
  std::vector<std::jthread> helpers;
  for (auto& worker : state.other_workers) {
    helpers.emplace_back([&worker] {
      set_this_thread_worker(worker.get());
      worker->run();
    });
  }
  // run() returns once the listener, every session and the signal wait have
  // ended: no io_context::stop() while coroutine frames are still alive.
  set_this_thread_worker(&state.io);
  state.io.run();
  set_this_thread_worker(nullptr);
  for (auto& helper : helpers) helper.join();
  state.relay_commits_to({});
}

}  // namespace chat::server
