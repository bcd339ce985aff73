#include "faulty_server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "protocol/event.hpp"
#include "protocol/request.hpp"

namespace chat::test {

namespace {

namespace asio = boost::asio;
namespace protocol = chat::protocol;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
const std::string room = "lobby";

struct member {
  explicit member(tcp::socket s) : socket(std::move(s)) {}

  tcp::socket socket;
  std::string name;
  protocol::session_mode mode = protocol::session_mode::plain;
  std::uint64_t index = 0;  // login order
  bool joined = false;
  std::deque<std::string> queue;
  bool writing = false;
  // Per sender: messages relayed so far, and one held back for a swap.
  std::map<std::string, std::uint64_t> relayed;
  std::map<std::string, std::string> held;
};

}  // namespace

struct faulty_server::state {
  state(std::uint64_t first, std::uint64_t last) : first_faulty(first), last_faulty(last) {}

  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::vector<std::shared_ptr<member>> members;
  std::uint64_t next_index = 0;
  std::uint64_t next_id = 0;
  const std::uint64_t first_faulty;
  const std::uint64_t last_faulty;
  std::atomic<std::uint64_t> dropped{0}, duplicated{0}, reordered{0}, foreign{0};

  void send(const std::shared_ptr<member>& to, std::string frame) {
    to->queue.push_back(std::move(frame));
    if (to->writing) return;
    to->writing = true;
    asio::co_spawn(io, writer(to), asio::detached);
  }

  static asio::awaitable<void> writer(std::shared_ptr<member> to) {
    while (!to->queue.empty()) {
      const std::string frame = std::move(to->queue.front());
      to->queue.pop_front();
      auto [ec, n] = co_await asio::async_write(to->socket, asio::buffer(frame), use_tuple);
      if (ec) break;
    }
    to->writing = false;
  }

  std::string message(const member& to, const std::string& from, const std::string& text) {
    return protocol::encode_message(to.mode, ++next_id, 0, room, from, text);
  }

  void relay(const member& from, const std::string& text) {
    for (const auto& to : members) {
      if (to.get() == &from || !to->joined) continue;
      const std::uint64_t n = ++to->relayed[from.name];
      const bool faulty = n >= first_faulty && n <= last_faulty;
      const std::uint64_t kind = to->index % 4;
      std::string frame = message(*to, from.name, text);
      if (faulty && kind == 1 && n % 10 == 3) {
        ++dropped;
        continue;
      }
      if (faulty && kind == 3 && n % 10 == 7) {
        to->held[from.name] = std::move(frame);
        continue;
      }
      if (faulty && kind == 2 && n % 10 == 5) {
        send(to, frame);
        ++duplicated;
      }
      send(to, std::move(frame));
      if (auto held = to->held.find(from.name); held != to->held.end()) {
        send(to, std::move(held->second));
        to->held.erase(held);
        ++reordered;
      }
      if (faulty && kind == 0 && n % 100 == 50) {
        send(to, message(*to, "stranger", "hello from a person"));
        ++foreign;
      }
    }
  }

  void leave(const std::shared_ptr<member>& m) {
    std::erase(members, m);
    boost::system::error_code ignored;
    m->socket.close(ignored);
  }

  asio::awaitable<void> session(std::shared_ptr<member> m) {
    send(m, protocol::encode_prompt());
    asio::streambuf input(64 * 1024);
    for (;;) {
      auto [ec, size] = co_await asio::async_read_until(m->socket, input, '\n', use_tuple);
      if (ec) break;
      std::string line(asio::buffers_begin(input.data()),
                       asio::buffers_begin(input.data()) + static_cast<std::ptrdiff_t>(size - 1));
      input.consume(size);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      if (!m->joined) {
        const auto hello = protocol::decode_hello(line);
        const auto* ok = std::get_if<protocol::hello>(&hello);
        if (ok == nullptr) break;
        m->name = ok->user;
        m->mode = ok->json ? protocol::session_mode::json : protocol::session_mode::plain;
        m->index = next_index++;
        m->joined = true;
        std::vector<std::string> names;
        for (const auto& other : members) {
          if (other->joined) names.push_back(other->name);
        }
        std::sort(names.begin(), names.end());
        send(m, protocol::encode_welcome(m->mode, m->name, room, names));
        for (const auto& other : members) {
          if (other == m || !other->joined) continue;
          send(other, protocol::encode_join(other->mode, room, m->name));
        }
        continue;
      }
      const auto request = m->mode == protocol::session_mode::json
                               ? protocol::decode_json_request(line)
                               : protocol::decode_plain_request(line);
      const auto* any = std::get_if<protocol::any_request>(&request);
      if (any == nullptr) continue;
      if (const auto* msg = std::get_if<protocol::request::message>(any)) relay(*m, msg->text);
    }
    leave(m);
  }

  asio::awaitable<void> listen() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      auto m = std::make_shared<member>(std::move(socket));
      members.push_back(m);
      asio::co_spawn(io, session(m), asio::detached);
    }
  }
};

faulty_server::faulty_server(std::uint64_t first_faulty, std::uint64_t last_faulty)
    : state_(std::make_shared<state>(first_faulty, last_faulty)) {
  const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(local.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(local);
  state_->acceptor.listen();
  port_ = state_->acceptor.local_endpoint().port();
  asio::co_spawn(state_->io, state_->listen(), asio::detached);
  thread_ = std::thread([s = state_] { s->io.run(); });
}

faulty_server::~faulty_server() {
  asio::post(state_->io, [s = state_] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
    for (const auto& m : s->members) m->socket.close(ignored);
  });
  thread_.join();
}

faulty_server::counts faulty_server::injected() const noexcept {
  return {state_->dropped.load(), state_->duplicated.load(), state_->reordered.load(),
          state_->foreign.load()};
}

}  // namespace chat::test
