// Many clients chatting at once: nothing lost, nothing duplicated, every
// sender's messages in the order it sent them, one id per message.

#include <poll.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

constexpr int client_count = 200;
constexpr int messages_each = 5;

std::string name_of(int index) { return "peer" + std::to_string(index); }

// Even clients speak JSON, odd ones plain text: one broadcast, both forms.
bool speaks_json(int index) { return index % 2 == 0; }

std::string text_of(int sender, int seq) {
  return "from " + std::to_string(sender) + " #" + std::to_string(seq);
}

// What one client has seen so far.
struct receiver {
  int index = 0;
  int joins = 0;
  int messages = 0;
  // The seq expected next from each sender: in order, no gap, no repeat.
  std::vector<int> next_seq = std::vector<int>(client_count, 0);
};

// Checks every frame as it arrives and keeps what all receivers saw.
class ledger {
public:
  void take(receiver& r, const std::string& line) {
    if (speaks_json(r.index)) {
      take_json(r, line);
    } else {
      take_plain(r, line);
    }
  }

  long deliveries() const { return deliveries_; }
  const std::vector<std::string>& problems() const { return problems_; }
  // The id every JSON receiver saw for (sender, seq).
  const std::map<std::pair<int, int>, std::uint64_t>& ids() const { return id_of_; }

private:
  void take_json(receiver& r, const std::string& line) {
    const json frame = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (frame.is_discarded() || !frame.is_object()) return problem(r, "not JSON: " + line);
    const std::string type = frame.value("type", "");
    if (type == "join") {
      ++r.joins;
      return;
    }
    if (type != "msg" || !frame["id"].is_number_unsigned()) {
      return problem(r, "unexpected frame: " + line);
    }
    const auto message = accept(r, frame.value("from", ""), frame.value("text", ""), line);
    if (!message) return;

    // Every copy of one message carries the same id, and no two messages share one.
    const std::uint64_t id = frame["id"].get<std::uint64_t>();
    const auto [known, inserted] = id_of_.try_emplace(*message, id);
    if (inserted) {
      if (!ids_.insert(id).second) problem(r, "id reused: " + line);
    } else if (known->second != id) {
      problem(r, "a second id for one message: " + line);
    }
  }

  void take_plain(receiver& r, const std::string& line) {
    if (line.starts_with("* ") && line.ends_with(" joined lobby")) {
      ++r.joins;
      return;
    }
    const auto colon = line.find(": ");
    if (colon == std::string::npos) return problem(r, "unexpected line: " + line);
    accept(r, line.substr(0, colon), line.substr(colon + 2), line);
  }

  // Checks a message's sender and place in that sender's sequence.
  std::optional<std::pair<int, int>> accept(receiver& r, const std::string& from,
                                            const std::string& text, const std::string& line) {
    int sender = -1;
    int seq = -1;
    if (std::sscanf(text.c_str(), "from %d #%d", &sender, &seq) != 2 || sender < 0 ||
        sender >= client_count || from != name_of(sender)) {
      problem(r, "unexpected message: " + line);
      return std::nullopt;
    }
    if (sender == r.index) {
      problem(r, "got its own message back: " + line);
      return std::nullopt;
    }
    if (seq != r.next_seq[sender]) {
      problem(r, "from " + from + " expected #" + std::to_string(r.next_seq[sender]) +
                     ", got: " + line);
      return std::nullopt;
    }
    ++r.next_seq[sender];
    ++r.messages;
    ++deliveries_;
    return std::pair{sender, seq};
  }

  void problem(const receiver& r, std::string what) {
    // A broken server would produce thousands; the first few tell the story.
    if (problems_.size() < 10) problems_.push_back(name_of(r.index) + ": " + std::move(what));
  }

  long deliveries_ = 0;
  std::map<std::pair<int, int>, std::uint64_t> id_of_;
  std::set<std::uint64_t> ids_;
  std::vector<std::string> problems_;
};

// Reads whatever is ready on any client, waiting at most `timeout` for the
// first byte. Returns false if nothing came in that time.
bool drain_ready(std::vector<line_client>& clients, std::vector<receiver>& receivers, ledger& book,
                 std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds;
  for (const line_client& client : clients) fds.push_back({client.fd(), POLLIN, 0});
  const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
  REQUIRE(ready >= 0);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    INFO(name_of(static_cast<int>(i)) << " was disconnected");
    REQUIRE(clients[i].receive_available());
    while (auto line = clients[i].take_line()) book.take(receivers[i], *line);
  }
  return ready > 0;
}

}  // namespace

TEST_CASE("200 concurrent clients each get every other client's messages exactly once, in order",
          "[fan-out]") {
  // Every arrival announced, however large the lobby grows: the joins are
  // part of the order checked.
  auto config = test_config();
  config.presence_limit = 0;
  test_server server(config);
  std::vector<line_client> clients;
  std::vector<receiver> receivers(client_count);
  for (int i = 0; i < client_count; ++i) {
    clients.push_back(speaks_json(i) ? join_json(server.port(), name_of(i))
                                     : join_plain(server.port(), name_of(i)));
    receivers[i].index = i;
  }
  ledger book;

  // Everyone sends a round, then reads what has arrived, so sending and
  // receiving overlap and no one's queue grows with the size of the test.
  for (int seq = 0; seq < messages_each; ++seq) {
    for (int sender = 0; sender < client_count; ++sender) {
      const std::string text = text_of(sender, seq);
      clients[sender].send_line(speaks_json(sender) ? json{{"type", "msg"}, {"text", text}}.dump()
                                                    : text);
    }
    while (drain_ready(clients, receivers, book, std::chrono::milliseconds(0))) {
    }
  }

  constexpr long expected = long{client_count} * (client_count - 1) * messages_each;
  while (book.deliveries() < expected && book.problems().empty()) {
    INFO(book.deliveries() << " of " << expected << " deliveries after a quiet "
                           << default_timeout.count() << " ms");
    REQUIRE(drain_ready(clients, receivers, book, default_timeout));
  }

  for (const std::string& problem : book.problems()) FAIL_CHECK(problem);
  REQUIRE(book.deliveries() == expected);
  CHECK(book.ids().size() == std::size_t{client_count} * messages_each);
  for (const receiver& r : receivers) {
    INFO(name_of(r.index));
    // Everyone who came later was announced, and nothing else.
    CHECK(r.joins == client_count - 1 - r.index);
    CHECK(r.messages == (client_count - 1) * messages_each);
  }
  // The server numbered each sender's messages in the order they were sent.
  for (int sender = 0; sender < client_count; ++sender) {
    for (int seq = 1; seq < messages_each; ++seq) {
      CHECK(book.ids().at({sender, seq}) > book.ids().at({sender, seq - 1}));
    }
  }
}
