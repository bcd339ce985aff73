// History on joining while others are talking: whatever the timing, each
// newcomer gets the room's past and then its present with nothing lost and
// nothing twice between the two. Senders talk without pause on threads of
// their own while joiners come into the room over and over, and every
// joiner's stream is checked message by message.

#include <poll.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chat_session.hpp"
#include "test_server.hpp"

using namespace chat::test;

namespace {

constexpr int sender_count = 3;
constexpr int joiner_count = 4;
// Each joiner comes in this many times while the senders talk.
constexpr int epochs_each = 5;
// Senders stop when every joiner is done, or at this many messages each.
constexpr int max_messages_each = 400;
// A sender reads what it was sent after this many messages, so that it
// neither falls behind as a slow consumer nor runs far ahead of the others.
constexpr int drain_every = 10;

// How the joiners come in: afresh into the default room (welcome and its
// history), or by joining a second room from a session already logged in.
struct scenario {
  bool at_login;
  std::size_t history_limit;  // the server's ring per room
  std::string room() const { return at_login ? "lobby" : "dev"; }
};

std::string sender_name(int index) { return "sender" + std::to_string(index); }
// Both forms on both sides.
bool speaks_json(int index) { return index % 2 == 0; }

// Failures seen on the threads, reported by the test's own thread: Catch2
// assertions are for that thread only.
class problem_log {
public:
  void add(std::string problem) {
    const std::lock_guard lock(mutex_);
    // A broken server would produce thousands; the first few tell the story.
    if (problems_.size() < 20) problems_.push_back(std::move(problem));
  }
  std::vector<std::string> take() {
    const std::lock_guard lock(mutex_);
    return problems_;
  }

private:
  std::mutex mutex_;
  std::vector<std::string> problems_;
};

// One room message as a joiner received it.
struct seen_message {
  bool history = false;
  std::uint64_t id = 0;  // JSON sessions only
  int sender = -1;
  int seq = -1;
};

// The next line, or nothing if none comes within `wait`.
std::optional<std::string> poll_line(line_client& client, std::chrono::milliseconds wait) {
  if (auto line = client.take_line()) return line;
  pollfd entry{client.fd(), POLLIN, 0};
  if (::poll(&entry, 1, static_cast<int>(wait.count())) <= 0) return std::nullopt;
  if (!client.receive_available()) throw std::runtime_error("the server closed the connection");
  return client.take_line();
}

// Turns a line of a joiner's stream into a message; nothing for membership
// events, which may come at any time; throws for anything else.
std::optional<seen_message> parse_line(const std::string& line, bool json_form, const scenario& s) {
  seen_message m;
  std::string from, text;
  if (json_form) {
    const json frame = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!frame.is_object()) throw std::runtime_error("not JSON: " + line);
    const std::string type = frame.value("type", "");
    if (type == "join" || type == "leave") return std::nullopt;
    const auto id = frame.find("id");
    if (type != "msg" || frame.value("room", "") != s.room() || id == frame.end() ||
        !id->is_number_unsigned()) {
      throw std::runtime_error("unexpected frame: " + line);
    }
    const auto history = frame.find("history");
    if (history != frame.end() && *history != true) {
      throw std::runtime_error("history not true: " + line);
    }
    m.history = history != frame.end();
    m.id = id->get<std::uint64_t>();
    from = frame.value("from", "");
    text = frame.value("text", "");
  } else {
    std::string_view rest = line;
    if (rest.starts_with("* ")) return std::nullopt;
    m.history = rest.starts_with("[history] ");
    if (m.history) rest.remove_prefix(10);
    // Only rooms other than the default one are named in plain lines.
    const std::string room_tag = "[#" + s.room() + "] ";
    if (!s.at_login) {
      if (!rest.starts_with(room_tag)) throw std::runtime_error("no room tag: " + line);
      rest.remove_prefix(room_tag.size());
    }
    const auto colon = rest.find(": ");
    if (colon == std::string_view::npos) throw std::runtime_error("unexpected line: " + line);
    from = rest.substr(0, colon);
    text = rest.substr(colon + 2);
  }
  if (std::sscanf(from.c_str(), "sender%d", &m.sender) != 1 || m.sender < 0 ||
      m.sender >= sender_count || from != sender_name(m.sender) ||
      std::sscanf(text.c_str(), "n%d", &m.seq) != 1 || text != "n" + std::to_string(m.seq)) {
    throw std::runtime_error("not a sender's message: " + line);
  }
  return m;
}

// The checks this test is about, on one join's worth of messages. Ids in the
// room are 1, 2, 3...: the scenario sends nothing anywhere else.
void check_stream(const std::vector<seen_message>& stream, bool json_form, const scenario& s,
                  const std::string& who, problem_log& log) {
  std::size_t history_count = 0;
  bool live = false;
  std::map<int, int> next_seq;
  std::map<int, int> first_seq;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    const seen_message& m = stream[i];
    const std::string where = who + ", message " + std::to_string(i) + " (sender" +
                              std::to_string(m.sender) + " n" + std::to_string(m.seq) + ")";
    if (m.history) {
      if (live) log.add(where + ": history after a live message");
      ++history_count;
    } else {
      live = true;
    }
    const auto [next, first] = next_seq.try_emplace(m.sender, m.seq);
    if (first) {
      first_seq[m.sender] = m.seq;
    } else if (next->second != m.seq) {
      log.add(where + ": expected n" + std::to_string(next->second) +
              (m.seq < next->second ? " (a duplicate)" : " (a gap)"));
    }
    next->second = m.seq + 1;
    if (json_form && i > 0 && m.id != stream[i - 1].id + 1) {
      log.add(where + ": id " + std::to_string(m.id) + " after " +
              std::to_string(stream[i - 1].id));
    }
  }
  if (history_count > s.history_limit) {
    log.add(who + ": " + std::to_string(history_count) + " history messages, more than the ring");
  }
  // A history shorter than the ring is everything said before the join.
  if (history_count < s.history_limit) {
    for (const auto& [sender, seq] : first_seq) {
      if (seq != 0) {
        log.add(who + ": sender" + std::to_string(sender) + " first seen at n" +
                std::to_string(seq) + " though the history was not full");
      }
    }
    if (json_form && !stream.empty() && stream.front().id != 1) {
      log.add(who + ": first id " + std::to_string(stream.front().id) +
              " though the history was not full");
    }
  }
}

// What the joiners saw, all told.
struct tally {
  std::atomic<int> epochs{0};
  // Epochs that got both history and live messages: the race really ran.
  std::atomic<int> mixed_epochs{0};
};

class joiner {
public:
  joiner(std::uint16_t port, int index, const scenario& s, const std::atomic<bool>& senders_done,
         problem_log& log, tally& counts)
      : port_(port),
        name_("joiner" + std::to_string(index)),
        json_(speaks_json(index)),
        scenario_(s),
        senders_done_(senders_done),
        log_(log),
        counts_(counts) {}

  void run() {
    try {
      if (!scenario_.at_login) {
        resident_.emplace(json_ ? join_json(port_, name_) : join_plain(port_, name_));
      }
      for (int epoch = 0; epoch < epochs_each; ++epoch) {
        const std::string who = name_ + " epoch " + std::to_string(epoch);
        const auto lines = scenario_.at_login ? log_in_once() : join_once(*resident_);
        std::vector<seen_message> stream;
        for (const std::string& line : lines) {
          if (auto m = parse_line(line, json_, scenario_)) stream.push_back(*m);
        }
        check_stream(stream, json_, scenario_, who, log_);
        ++counts_.epochs;
        const auto live = std::count_if(stream.begin(), stream.end(),
                                        [](const seen_message& m) { return !m.history; });
        if (live > 0 && live < static_cast<std::ptrdiff_t>(stream.size())) ++counts_.mixed_epochs;
      }
    } catch (const std::exception& e) {
      log_.add(name_ + ": " + e.what());
    }
  }

private:
  // Logs in, listens for a while and quits; returns what came after the welcome.
  std::vector<std::string> log_in_once() {
    line_client client(port_);
    expect_prompt(client);
    client.send_line(json_ ? json{{"type", "hello"}, {"user", name_}}.dump() : name_);
    const std::string welcome = client.read_line();
    if (!welcome.starts_with(json_ ? R"({"type":"welcome")" : "* welcome ")) {
      throw std::runtime_error("expected a welcome, got: " + welcome);
    }
    std::vector<std::string> lines = listen(client);
    client.send_line(json_ ? R"({"type":"quit"})" : "/quit");
    for (std::string& line : client.read_until_eof()) lines.push_back(std::move(line));
    return lines;
  }

  // Joins the room, listens for a while and leaves; returns what came
  // between the joined and the left replies.
  std::vector<std::string> join_once(line_client& client) {
    const std::string room = scenario_.room();
    client.send_line(json_ ? json{{"type", "join"}, {"room", room}}.dump() : "/join " + room);
    for (;;) {
      const std::string line = client.read_line();
      if (line.starts_with(json_ ? R"({"type":"joined")" : "* you joined ")) break;
      // Before the reply, only membership news of the lobby can come.
      if (parse_line(line, json_, scenario_)) throw std::runtime_error("before joined: " + line);
    }
    std::vector<std::string> lines = listen(client);
    client.send_line(json_ ? json{{"type", "leave"}, {"room", room}}.dump() : "/leave " + room);
    for (;;) {
      std::string line = client.read_line();
      if (json_ ? json::parse(line, nullptr, false) == json{{"type", "left"}, {"room", room}}
                : line == "* you left " + room) {
        return lines;
      }
      lines.push_back(std::move(line));
    }
  }

  // Reads until a few live messages came, or the senders are done.
  std::vector<std::string> listen(line_client& client) {
    std::vector<std::string> lines;
    int live = 0;
    const auto deadline = std::chrono::steady_clock::now() + default_timeout;
    while (live < 3 && !senders_done_) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("no live messages came for " +
                                 std::to_string(default_timeout.count()) + " ms");
      }
      auto line = poll_line(client, std::chrono::milliseconds(20));
      if (!line) continue;
      const auto m = parse_line(*line, json_, scenario_);
      if (m && !m->history) ++live;
      lines.push_back(std::move(*line));
    }
    return lines;
  }

  const std::uint16_t port_;
  const std::string name_;
  const bool json_;
  const scenario scenario_;
  const std::atomic<bool>& senders_done_;
  problem_log& log_;
  tally& counts_;
  // Logged in once when the joiners come by joining a room.
  std::optional<line_client> resident_;
};

// Sends numbered messages to its current room until told to stop; returns
// how many it sent.
int send_until(line_client& client, bool json_form, const std::atomic<int>& joiners_done,
               problem_log& log, const std::string& who) {
  int sent = 0;
  try {
    while (sent < max_messages_each && joiners_done < joiner_count) {
      const std::string text = "n" + std::to_string(sent);
      client.send_line(json_form ? json{{"type", "msg"}, {"text", text}}.dump() : text);
      ++sent;
      if (sent % drain_every == 0) {
        json_form ? lines_before_pong(client) : lines_before_help(client);
      }
    }
  } catch (const std::exception& e) {
    log.add(who + ": " + e.what());
  }
  return sent;
}

}  // namespace

TEST_CASE("joining while others talk gives history then live messages with no gap and no repeat",
          "[history][race]") {
  const scenario s = GENERATE(scenario{true, 100'000}, scenario{false, 100'000}, scenario{true, 64},
                              scenario{false, 64});
  INFO((s.at_login ? "joining at login" : "joining a room")
       << ", history ring " << s.history_limit);
  auto config = test_config();
  config.history = s.history_limit;
  test_server server(config);

  std::vector<line_client> senders;
  for (int i = 0; i < sender_count; ++i) {
    senders.push_back(speaks_json(i) ? join_json(server.port(), sender_name(i))
                                     : join_plain(server.port(), sender_name(i)));
    if (!s.at_login) {
      senders.back().send_line(speaks_json(i) ? R"({"type":"join","room":"dev"})" : "/join dev");
    }
  }

  problem_log log;
  tally counts;
  std::atomic<bool> senders_done{false};
  std::atomic<int> joiners_done{0};
  std::vector<int> sent(sender_count, 0);
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < sender_count; ++i) {
      threads.emplace_back([&, i] {
        sent[i] = send_until(senders[i], speaks_json(i), joiners_done, log, sender_name(i));
      });
    }
    std::vector<std::thread> joiner_threads;
    for (int i = 0; i < joiner_count; ++i) {
      joiner_threads.emplace_back([&, i] {
        joiner(server.port(), i, s, senders_done, log, counts).run();
        ++joiners_done;
      });
    }
    for (std::thread& t : threads) t.join();
    senders_done = true;
    for (std::thread& t : joiner_threads) t.join();
  }
  for (const std::string& problem : log.take()) FAIL_CHECK(problem);
  CHECK(counts.epochs == joiner_count * epochs_each);
  // Had every join fallen before or after all the talk, nothing was tested.
  CHECK(counts.mixed_epochs > 0);

  // Last, a newcomer's history is the whole tail, in order, up to the last
  // message sent.
  const int total = sent[0] + sent[1] + sent[2];
  INFO(total << " messages, " << counts.mixed_epochs << " joins amid the talk");
  line_client last = join_json(server.port(), "last");
  if (!s.at_login) {
    last.send_line(R"({"type":"join","room":"dev"})");
    // Joiners going away may still be announced in the lobby.
    for (json frame = read_json(last); frame["type"] != "joined"; frame = read_json(last)) {
      REQUIRE((frame["type"] == "leave" || frame["type"] == "join"));
    }
  }
  std::vector<std::uint64_t> ids;
  for (const std::string& line : lines_before_pong(last)) {
    const json frame = json::parse(line);
    if (frame.value("type", "") == "msg") ids.push_back(frame.value("id", std::uint64_t{0}));
  }
  const auto expected = std::min<std::size_t>(s.history_limit, static_cast<std::size_t>(total));
  CHECK(ids.size() == expected);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CHECK(ids[i] == static_cast<std::uint64_t>(total) - expected + 1 + i);
  }
}
