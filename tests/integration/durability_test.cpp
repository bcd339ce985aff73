// Acks that mean stored, and clients that come back: a server killed with
// SIGKILL keeps every message it acked, a full disk is told to the senders
// and passes, and a client that lost its connection (or was dropped as a
// slow consumer) resumes with every message it missed, or an explicit gap.

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chat_session.hpp"
#include "child_process.hpp"
#include "data_dir.hpp"
#include "slow_consumer_scene.hpp"
#include "store/history_database.hpp"
#include "test_server.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;
using id_list = std::vector<std::uint64_t>;

const std::string chat_server = CHAT_SERVER_BINARY;

// Joins `room` and reads the joined reply; the room's history, if any, is
// left unread.
void enter(line_client& json_client, const std::string& room) {
  json_client.send_line(json{{"type", "join"}, {"room", room}}.dump());
  const json reply = read_json(json_client);
  if (reply.value("type", "") != "joined" || reply.value("room", "") != room) {
    throw std::runtime_error("expected to join " + room + ", got: " + reply.dump());
  }
}

// Reads until `user` is announced leaving `room`, skipping anything else.
void await_leave(line_client& json_client, const std::string& room, const std::string& user) {
  for (;;) {
    const json frame = read_json(json_client);
    if (frame == json{{"type", "leave"}, {"room", room}, {"user", user}}) return;
  }
}

// Sends one msg per text, refs from `first_ref` on, all in one write, and
// returns what settled each, in order: its ack or its error. Frames that are
// neither (others' messages, joins, leaves) are skipped.
std::vector<json> settle_all(line_client& sender, const std::vector<std::string>& texts,
                             int first_ref = 0) {
  std::string burst;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    burst +=
        json{{"type", "msg"}, {"text", texts[i]}, {"ref", first_ref + static_cast<int>(i)}}.dump() +
        "\n";
  }
  sender.send_raw(burst);
  std::vector<json> settled;
  while (settled.size() < texts.size()) {
    json frame = read_json(sender);
    const std::string type = frame.value("type", "");
    if (type != "ack" && type != "error") continue;
    const int ref = first_ref + static_cast<int>(settled.size());
    if (frame.value("ref", -1) != ref) {
      throw std::runtime_error("expected what settles message " + std::to_string(ref) +
                               ", got: " + frame.dump());
    }
    settled.push_back(std::move(frame));
  }
  return settled;
}

std::vector<std::string> numbered(const std::string& prefix, int count) {
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) texts.push_back(prefix + std::to_string(i));
  return texts;
}

// settle_all for messages that must all be acked: their ids.
id_list say_all(line_client& sender, const std::string& prefix, int count) {
  id_list ids;
  for (const json& frame : settle_all(sender, numbered(prefix, count))) {
    if (frame["type"] != "ack") throw std::runtime_error("expected an ack, got: " + frame.dump());
    ids.push_back(frame.at("id").get<std::uint64_t>());
  }
  return ids;
}

id_list ids_of(const std::vector<json>& messages) {
  id_list ids;
  for (const json& m : messages) ids.push_back(m.at("id").get<std::uint64_t>());
  return ids;
}

bool strictly_increasing(const id_list& ids) {
  return std::adjacent_find(ids.begin(), ids.end(), [](auto a, auto b) { return a >= b; }) ==
         ids.end();
}

std::string describe(const std::vector<json>& frames) {
  std::string out;
  for (const json& f : frames) out += f.dump().substr(0, 160) + "\n";
  return out;
}

// The ids of `room`'s history above `above`, oldest first, read with history
// requests paging back from the newest (before = the lowest id of the last
// page) until a page reaches `above` or comes back empty.
id_list history_above(line_client& reader, const std::string& room, std::uint64_t above) {
  id_list newest_first;
  std::uint64_t before = 0;
  for (;;) {
    json request{{"type", "history"}, {"room", room}, {"limit", 200}};
    if (before != 0) request["before"] = before;
    reader.send_line(request.dump());
    const json page = read_json(reader, 10s);
    if (page.value("type", "") != "history") {
      throw std::runtime_error("expected a history page, got: " + page.dump().substr(0, 300));
    }
    const json& messages = page.at("messages");
    if (messages.empty()) break;
    bool reached = false;
    for (auto m = messages.rbegin(); m != messages.rend(); ++m) {
      const auto id = m->at("id").get<std::uint64_t>();
      if (id <= above) {
        reached = true;
        break;
      }
      newest_first.push_back(id);
    }
    const auto lowest = messages.front().at("id").get<std::uint64_t>();
    // A page that does not go below the last one would page forever.
    if (reached || (before != 0 && lowest >= before)) break;
    before = lowest;
  }
  return id_list(newest_first.rbegin(), newest_first.rend());
}

// ---------------------------------------------------------------------------
// kill -9

// What one sender saw in one round.
struct flood_tally {
  id_list acked;
  // Every id of this round the sender saw: its acks and others' live messages.
  id_list seen;
  // A frame or failure there should have been none of.
  std::string trouble;
};

// Sends msg frames with refs as fast as the server takes them, up to
// `window` unacknowledged, and reads everything that comes, until the
// connection ends (the server is killed).
void flood(line_client& client, const std::string& name, const std::atomic<bool>& killed,
           flood_tally& tally) {
  constexpr int window = 256;
  int sent = 0;
  auto seen = [&](std::uint64_t id) { tally.seen.push_back(id); };
  auto note = [&](const std::string& what) {
    if (tally.trouble.empty()) tally.trouble = what;
  };
  // Never throws: it also runs outside the try below, and a thread must not.
  auto take = [&](const std::string& line) {
    const json frame = json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string type = frame.is_object() ? frame.value("type", "") : "";
    const auto id = frame.is_object() ? frame.find("id") : frame.end();
    const bool has_id = id != frame.end() && id->is_number_unsigned();
    if (type == "ack" && has_id) {
      if (frame.value("ref", -1) != static_cast<int>(tally.acked.size())) {
        note("ack out of order: " + line);
      }
      tally.acked.push_back(id->get<std::uint64_t>());
      seen(tally.acked.back());
    } else if (type == "msg" && has_id) {
      if (!frame.contains("history")) seen(id->get<std::uint64_t>());
    } else if (type != "join" && type != "leave") {
      note(line);
    }
  };
  try {
    for (;;) {
      const int unacked = sent - static_cast<int>(tally.acked.size());
      if (unacked < window / 2) {
        std::string burst;
        for (int i = unacked; i < window; ++i, ++sent) {
          burst +=
              json{{"type", "msg"}, {"text", name + " #" + std::to_string(sent)}, {"ref", sent}}
                  .dump() +
              "\n";
        }
        client.send_raw(burst);
      }
      pollfd entry{client.fd(), POLLIN, 0};
      ::poll(&entry, 1, 100);
      const bool open = client.receive_available();
      while (auto line = client.take_line()) take(*line);
      if (!open) break;
    }
  } catch (const std::exception& e) {
    // A reset or a refused send is how a killed server goes away.
    if (!killed && tally.trouble.empty()) tally.trouble = e.what();
  }
  while (auto line = client.take_line()) take(*line);
}

void kill_loop(const std::string& sync, int rounds) {
  constexpr int sender_count = 3;
  const std::string room = "dev";
  data_dir dir;
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> kill_after_ms(50, 600);
  INFO("--sync " << sync << ", seed " << seed);
  const std::vector<std::string> args{"--port",       "0", "--data-dir",   dir.string(),
                                      "--rate-limit", "0", "--max-per-ip", "0",
                                      "--sync",       sync};

  id_list all_acked;  // ascending: each round's ids are above the last's
  id_list last_round_acked;
  std::uint64_t checked_through = 0;  // history read (and checked) up to this id
  std::uint64_t seen_before = 0;      // the highest id any client saw in an earlier round
  // Ids that named a message some client saw in an earlier round, and named
  // another in a later one: given out live, not stored, and given out again
  // after the restart.
  std::size_t reused = 0;
  std::size_t in_history = 0;
  std::size_t found = 0;

  for (int round = 0; round <= rounds; ++round) {
    INFO("round " << round);
    child_process server(chat_server, args);
    const std::uint16_t port = await_listening(server);
    {
      // What the last round had acked is all there, once each.
      line_client checker = join_json(port, "checker");
      enter(checker, room);
      frames_before_pong(checker);
      const bool last = round == rounds;
      const id_list history = history_above(checker, room, last ? 0 : checked_through);
      CHECK(strictly_increasing(history));
      const auto missing =
          std::count_if(last_round_acked.begin(), last_round_acked.end(), [&](std::uint64_t id) {
            return !std::binary_search(history.begin(), history.end(), id);
          });
      CHECK(missing == 0);
      if (!history.empty()) checked_through = std::max(checked_through, history.back());
      if (last) {
        // The whole history, after all the kills: still every acked id.
        in_history = history.size();
        found = static_cast<std::size_t>(
            std::count_if(all_acked.begin(), all_acked.end(), [&](std::uint64_t id) {
              return std::binary_search(history.begin(), history.end(), id);
            }));
        CHECK(found == all_acked.size());
        break;
      }
    }

    std::vector<line_client> senders;
    for (int i = 0; i < sender_count; ++i) {
      senders.push_back(join_json(port, "s" + std::to_string(i)));
      enter(senders.back(), room);
    }
    std::atomic<bool> killed{false};
    std::vector<flood_tally> tallies(sender_count);
    std::vector<std::thread> threads;
    for (int i = 0; i < sender_count; ++i) {
      threads.emplace_back(flood, std::ref(senders[static_cast<std::size_t>(i)]),
                           "s" + std::to_string(i), std::cref(killed),
                           std::ref(tallies[static_cast<std::size_t>(i)]));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
    killed = true;
    ::kill(server.pid(), SIGKILL);
    for (std::thread& t : threads) t.join();
    // A killed process is gone once the kernel has finished the writes it was in
    // (an fdatasync of a busy disk), which on a loaded machine can take seconds.
    CHECK(server.wait(std::chrono::seconds(30)) == 128 + SIGKILL);

    last_round_acked.clear();
    id_list seen;
    for (const flood_tally& tally : tallies) {
      INFO("trouble: " << tally.trouble);
      CHECK(tally.trouble.empty());
      CHECK(strictly_increasing(tally.acked));
      last_round_acked.insert(last_round_acked.end(), tally.acked.begin(), tally.acked.end());
      seen.insert(seen.end(), tally.seen.begin(), tally.seen.end());
    }
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    reused += static_cast<std::size_t>(std::upper_bound(seen.begin(), seen.end(), seen_before) -
                                       seen.begin());
    if (!seen.empty()) seen_before = std::max(seen_before, seen.back());
    std::sort(last_round_acked.begin(), last_round_acked.end());
    CHECK(strictly_increasing(last_round_acked));
    // Never reused: above every id the history held before the round.
    if (!last_round_acked.empty()) CHECK(last_round_acked.front() > checked_through);
    all_acked.insert(all_acked.end(), last_round_acked.begin(), last_round_acked.end());
  }
  CHECK(strictly_increasing(all_acked));
  CHECK(all_acked.size() > static_cast<std::size_t>(rounds));
  std::cout << "kill -9 loop, --sync " << sync << ": " << rounds << " rounds, " << all_acked.size()
            << " messages acked, " << found << " of them found after the restarts (" << in_history
            << " messages in history); " << reused
            << " ids seen live (not acked) were given to other messages after a restart\n";
  // A client that saw an id live resumes after it, so a message given the
  // same id after the restart would never reach it.
  CHECK(reused == 0);
}

// ---------------------------------------------------------------------------
// The other tests run the server in the test process.

chat::server::config memory_config(std::size_t history = 1000) {
  auto config = test_config();
  config.history = history;
  return config;
}

chat::server::config disk_config(const data_dir& dir) {
  auto config = test_config();
  config.data_dir = dir.string();
  return config;
}

// Two JSON sessions in `room`: b talks, a listens; past each other's joins.
struct pair_in_room {
  line_client a;
  line_client b;
};

pair_in_room pair_in(std::uint16_t port, const std::string& room) {
  pair_in_room p{join_json(port, "a"), join_json(port, "b")};
  expect_join(p.a, "b");
  enter(p.a, room);
  enter(p.b, room);
  frames_before_pong(p.a);
  frames_before_pong(p.b);
  return p;
}

// a reads b's messages live up to the last of `count`, then goes away; b
// hears of it. Returns the last id a saw.
std::uint64_t listen_then_drop(pair_in_room& p, int count) {
  const id_list ids = say_all(p.b, "seen ", count);
  for (const std::uint64_t id : ids) {
    const json frame = read_json(p.a);
    REQUIRE(frame["type"] == "msg");
    CHECK(frame["id"] == id);
    CHECK_FALSE(frame.contains("history"));
  }
  p.a.close();
  await_leave(p.b, "dev", "a");
  return ids.back();
}

line_client hello_resuming(std::uint16_t port, const std::string& user, const json& resume) {
  line_client client(port);
  expect_prompt(client);
  client.send_line(json{{"type", "hello"}, {"user", user}, {"resume", resume}}.dump());
  const json welcome = read_json(client);
  if (welcome.value("type", "") != "welcome") {
    throw std::runtime_error("expected the welcome, got: " + welcome.dump());
  }
  return client;
}

// Checks that `frames` are the replayed messages `ids` of `room`, in order,
// marked as history.
void check_replayed(const std::vector<json>& frames, const std::string& room, const id_list& ids) {
  INFO("frames:\n" << describe(frames));
  REQUIRE(frames.size() == ids.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CHECK(frames[i]["type"] == "msg");
    CHECK(frames[i]["id"] == ids[i]);
    CHECK(frames[i]["room"] == room);
    CHECK(frames[i]["history"] == true);
  }
}

// b says one more; a, resumed, gets it live, and nothing else.
void check_live_after(pair_in_room& p, line_client& resumed) {
  const std::uint64_t id = say_all(p.b, "live ", 1)[0];
  const json frame = read_json(resumed);
  CHECK(frame["type"] == "msg");
  CHECK(frame["id"] == id);
  CHECK_FALSE(frame.contains("history"));
  CHECK(frames_before_pong(resumed).empty());
}

// Reads the output the program has written by now, as lines.
std::vector<std::string> log_lines_now(child_process& server) {
  std::vector<std::string> lines;
  for (;;) {
    try {
      lines.push_back(server.read_line(300ms));
    } catch (const std::runtime_error&) {
      return lines;
    }
  }
}

std::size_t count_containing(const std::vector<std::string>& lines, std::string_view part) {
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& line) {
    return line.find(part) != std::string::npos;
  }));
}

// Whether the program is still running, or how it ended, for a failure message.
std::string exit_of(child_process& server) {
  try {
    const int status = server.wait(1s);
    return "the server exited with " + std::to_string(status) +
           (status == 128 + SIGXFSZ ? " (killed by SIGXFSZ)" : "") + "; output: " + server.output();
  } catch (const std::runtime_error&) {
    return "the server is still running";
  }
}

void set_file_size_limit(pid_t pid, rlim_t limit) {
  rlimit current{};
  REQUIRE(::prlimit(pid, RLIMIT_FSIZE, nullptr, &current) == 0);
  current.rlim_cur = limit;
  REQUIRE(::prlimit(pid, RLIMIT_FSIZE, &current, nullptr) == 0);
}

}  // namespace

TEST_CASE("kill -9 at random moments under full load loses no acked message (--sync batch)",
          "[durability][kill]") {
  kill_loop("batch", 20);
}

TEST_CASE("kill -9 at random moments under full load loses no acked message (--sync none)",
          "[durability][kill]") {
  kill_loop("none", 20);
}

TEST_CASE("a message with a ref is acked, with a data dir and without", "[durability]") {
  const bool on_disk = GENERATE(false, true);
  INFO((on_disk ? "with" : "without") << " a data dir");
  data_dir dir;
  test_server server(on_disk ? disk_config(dir) : memory_config());
  line_client alice = join_json(server.port(), "alice");
  line_client bob = join_json(server.port(), "bob");
  expect_join(alice, "bob");

  // One at a time: an ack must not wait for company to come.
  auto slowest = clock_type::duration::zero();
  std::uint64_t last_id = 0;
  for (int ref = 0; ref < 20; ++ref) {
    const auto sent = clock_type::now();
    alice.send_line(json{{"type", "msg"}, {"text", "one"}, {"ref", ref}}.dump());
    const json ack = read_json(alice);
    slowest = std::max(slowest, clock_type::now() - sent);
    INFO("frame " << ack.dump());
    REQUIRE(ack["type"] == "ack");
    CHECK(ack["ref"] == ref);
    CHECK(ack["id"].get<std::uint64_t>() > last_id);
    last_id = ack["id"].get<std::uint64_t>();
    CHECK(read_json(bob)["id"] == last_id);
  }
  CHECK(slowest < 1s);

  // A ref is any JSON value, given back as it came; a direct message is acked too.
  alice.send_line(R"({"type":"msg","text":"two","ref":{"k":["x",1]}})");
  json ack = read_json(alice);
  CHECK(ack["type"] == "ack");
  CHECK(ack["ref"] == json{{"k", {"x", 1}}});
  alice.send_line(R"({"type":"dm","to":"bob","text":"psst","ref":"d1"})");
  ack = read_json(alice);
  CHECK(ack["type"] == "ack");
  CHECK(ack["ref"] == "d1");

  // Without a ref, no ack, and nothing else either.
  alice.send_line(R"({"type":"msg","text":"three"})");
  CHECK(frames_before_pong(alice).empty());
  CHECK(frames_before_pong(bob).size() == 3);
}

TEST_CASE("a JSON client that lost its connection resumes with exactly what it missed",
          "[durability][resume]") {
  const bool on_disk = GENERATE(false, true);
  INFO((on_disk ? "with" : "without") << " a data dir");
  data_dir dir;
  test_server server(on_disk ? disk_config(dir) : memory_config());
  pair_in_room p = pair_in(server.port(), "dev");
  const std::uint64_t seen = listen_then_drop(p, 3);
  const id_list missed = say_all(p.b, "missed ", 5);

  std::optional<line_client> back;
  SECTION("resume in the hello") { back = hello_resuming(server.port(), "a", {{"dev", seen}}); }
  SECTION("resume request after login") {
    back = join_json(server.port(), "a");
    CHECK(frames_before_pong(*back).empty());
    back->send_line(json{{"type", "resume"}, {"room", "dev"}, {"after", seen}}.dump());
  }
  std::vector<json> frames = frames_before_pong(*back);
  INFO("frames:\n" << describe(frames));
  REQUIRE_FALSE(frames.empty());
  CHECK(frames[0]["type"] == "joined");
  CHECK(frames[0]["room"] == "dev");
  frames.erase(frames.begin());
  check_replayed(frames, "dev", missed);
  check_live_after(p, *back);
}

TEST_CASE("a plain client that lost its connection resumes with /resume", "[durability][resume]") {
  const bool on_disk = GENERATE(false, true);
  INFO((on_disk ? "with" : "without") << " a data dir");
  data_dir dir;
  test_server server(on_disk ? disk_config(dir) : memory_config());
  line_client b = join_json(server.port(), "b");
  enter(b, "dev");
  std::uint64_t seen = 0;
  {
    line_client a = join_plain(server.port(), "a");
    a.send_line("/join dev");
    CHECK(a.read_line().starts_with("* you joined dev"));
    // b hears of a in dev before it speaks.
    while (read_json(b) != json{{"type", "join"}, {"room", "dev"}, {"user", "a"}}) {
    }
    const id_list ids = say_all(b, "seen ", 2);
    CHECK(a.read_line() == "[#dev] b: seen 0");
    CHECK(a.read_line() == "[#dev] b: seen 1");
    seen = ids.back();
  }
  await_leave(b, "dev", "a");
  say_all(b, "missed ", 5);

  line_client a = join_plain(server.port(), "a");
  CHECK(lines_before_help(a).empty());
  a.send_line("/resume dev " + std::to_string(seen));
  const std::vector<std::string> lines = lines_before_help(a);
  INFO("lines: " << ::Catch::Detail::stringify(lines));
  REQUIRE(lines.size() == 6);
  CHECK(lines[0].starts_with("* you joined dev"));
  for (int i = 0; i < 5; ++i) {
    CHECK(lines[static_cast<std::size_t>(i + 1)] ==
          "[history] [#dev] b: missed " + std::to_string(i));
  }
  const std::uint64_t live = say_all(b, "live ", 1)[0];
  CHECK(live > seen);
  CHECK(a.read_line() == "[#dev] b: live 0");
  CHECK(lines_before_help(a).empty());
}

TEST_CASE("a resume of more than a page ends with more, and the next page has the rest",
          "[durability][resume]") {
  const bool on_disk = GENERATE(false, true);
  INFO((on_disk ? "with" : "without") << " a data dir");
  data_dir dir;
  // In memory the ring holds it all; on disk the ring (100) does not, so
  // the pages come from the database.
  test_server server(on_disk ? disk_config(dir) : memory_config(1000));
  pair_in_room p = pair_in(server.port(), "dev");
  const std::uint64_t seen = listen_then_drop(p, 1);
  const id_list missed = say_all(p.b, "missed ", 250);

  line_client back = hello_resuming(server.port(), "a", {{"dev", seen}});
  std::vector<json> frames = frames_before_pong(back);
  INFO("frames:\n" << describe(frames));
  REQUIRE(frames.size() == 202);
  CHECK(frames[0]["type"] == "joined");
  CHECK(frames.back() == json{{"type", "more"}, {"room", "dev"}, {"after", missed[199]}});
  check_replayed(std::vector<json>(frames.begin() + 1, frames.end() - 1), "dev",
                 id_list(missed.begin(), missed.begin() + 200));

  // Live messages meanwhile come at once, and the next page does not repeat them.
  const std::uint64_t live = say_all(p.b, "live ", 1)[0];
  const json frame = read_json(back);
  CHECK(frame["id"] == live);
  CHECK_FALSE(frame.contains("history"));
  back.send_line(json{{"type", "resume"}, {"room", "dev"}, {"after", missed[199]}}.dump());
  check_replayed(frames_before_pong(back), "dev", id_list(missed.begin() + 200, missed.end()));
  check_live_after(p, back);
}

TEST_CASE("a resume from before a memory-only room's ring says there is a gap first",
          "[durability][resume][gap]") {
  test_server server(memory_config(5));
  pair_in_room p = pair_in(server.port(), "dev");
  const std::uint64_t seen = listen_then_drop(p, 1);
  const id_list missed = say_all(p.b, "missed ", 10);
  const id_list ring(missed.begin() + 5, missed.end());

  SECTION("JSON") {
    line_client back = hello_resuming(server.port(), "a", {{"dev", seen}});
    std::vector<json> frames = frames_before_pong(back);
    INFO("frames:\n" << describe(frames));
    REQUIRE(frames.size() == 7);
    CHECK(frames[0]["type"] == "joined");
    const json gap = frames[1];
    CHECK(gap["type"] == "gap");
    CHECK(gap["room"] == "dev");
    CHECK(gap["from"] == seen);
    // missed[0..4] are gone: the gap covers them and none of the ring.
    CHECK(gap["to"].get<std::uint64_t>() >= missed[4]);
    CHECK(gap["to"].get<std::uint64_t>() < missed[5]);
    check_replayed(std::vector<json>(frames.begin() + 2, frames.end()), "dev", ring);
    check_live_after(p, back);
  }
  SECTION("plain") {
    line_client back = join_plain(server.port(), "a");
    CHECK(lines_before_help(back).empty());
    back.send_line("/resume dev " + std::to_string(seen));
    const std::vector<std::string> lines = lines_before_help(back);
    INFO("lines: " << ::Catch::Detail::stringify(lines));
    REQUIRE(lines.size() == 7);
    CHECK(lines[0].starts_with("* you joined dev"));
    CHECK(lines[1] == "* messages in dev after " + std::to_string(seen) + " up to " +
                          std::to_string(missed[4]) + " may be missing");
    for (int i = 0; i < 5; ++i) {
      CHECK(lines[static_cast<std::size_t>(i + 2)] ==
            "[history] [#dev] b: missed " + std::to_string(i + 5));
    }
  }
}

TEST_CASE("a resume from before what retention kept on disk says there is a gap first",
          "[durability][resume][gap]") {
  data_dir dir;
  auto config = disk_config(dir);
  config.history_max_bytes = 16 << 10;
  test_server server(config);
  pair_in_room p = pair_in(server.port(), "dev");
  const std::uint64_t seen = listen_then_drop(p, 1);
  // Batch after batch (each acked before the next), so that there are
  // chunks for retention to drop: some 200 KB, against a bound of 16 KiB.
  id_list missed;
  for (int batch = 0; batch < 20; ++batch) {
    const id_list ids = say_all(p.b, std::string(300, 'r') + std::to_string(batch) + " ", 30);
    missed.insert(missed.end(), ids.begin(), ids.end());
  }

  // Retention runs when the writer is idle: wait for it, within reason.
  line_client c = join_json(server.port(), "c");
  enter(c, "dev");
  frames_before_pong(c);
  const auto deadline = clock_type::now() + 10s;
  std::vector<json> frames;
  for (;;) {
    c.send_line(json{{"type", "resume"}, {"room", "dev"}, {"after", seen}}.dump());
    frames = frames_before_pong(c);
    REQUIRE_FALSE(frames.empty());
    if (frames[0]["type"] == "gap" || clock_type::now() > deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  INFO("frames:\n" << describe(frames));
  REQUIRE(frames[0]["type"] == "gap");
  CHECK(frames[0]["room"] == "dev");
  CHECK(frames[0]["from"] == seen);
  const auto gap_to = frames[0]["to"].get<std::uint64_t>();
  CHECK(gap_to >= missed.front());
  CHECK(gap_to < missed.back());
  // After the gap, what is kept, in order: messages of the room, no repeat.
  std::vector<json> replayed(frames.begin() + 1, frames.end());
  if (!replayed.empty() && replayed.back()["type"] == "more") replayed.pop_back();
  REQUIRE_FALSE(replayed.empty());
  const id_list ids = ids_of(replayed);
  CHECK(strictly_increasing(ids));
  CHECK(ids.front() > seen);
  for (const std::uint64_t id : ids) {
    CHECK(std::binary_search(missed.begin(), missed.end(), id));
  }
}

TEST_CASE("a slow consumer told its last id resumes from it and ends up with every message",
          "[durability][slow-consumer]") {
  constexpr int chatter_count = 3;
  // A page of replay (200 messages) fits in the queue.
  constexpr std::size_t max_queue = 256 * 1024;
  data_dir dir;
  auto config = disk_config(dir);
  config.max_queue = max_queue;
  config.linger = 10s;
  test_server server(config);

  auto [chatters, stalled] = join_stalled_room(server.port(), chatter_count);

  // Each chatter sends one message a round and reads the others' before the
  // next, so only the stalled client falls behind; acks are read as they come.
  std::vector<id_list> acked(chatter_count);
  const std::string padding(1000, '.');
  std::size_t pushed = 0;
  int leaves_seen = 0;
  int round = 0;
  auto take = [&](int receiver, const json& frame) {
    const std::string type = frame.value("type", "");
    if (type == "ack") {
      acked[static_cast<std::size_t>(receiver)].push_back(frame.at("id").get<std::uint64_t>());
    } else if (frame == json{{"type", "leave"}, {"room", "lobby"}, {"user", "stalled"}}) {
      ++leaves_seen;
    } else if (type != "msg") {
      FAIL("unexpected frame " << frame.dump());
    }
    return type == "msg";
  };
  while (leaves_seen < chatter_count) {
    INFO("pushed " << pushed << " bytes in " << round << " rounds");
    REQUIRE(pushed < stalled_give_up_after);
    for (int i = 0; i < chatter_count; ++i) {
      chatters[static_cast<std::size_t>(i)].send_line(
          json{{"type", "msg"}, {"text", std::to_string(round) + padding}, {"ref", round}}.dump());
      pushed += padding.size();
    }
    ++round;
    for (int i = 0; i < chatter_count; ++i) {
      for (int got = 0; got < chatter_count - 1;) {
        if (take(i, read_json(chatters[static_cast<std::size_t>(i)]))) ++got;
      }
    }
  }
  // The acks still on their way.
  id_list all;
  for (int i = 0; i < chatter_count; ++i) {
    auto& ids = acked[static_cast<std::size_t>(i)];
    while (ids.size() < static_cast<std::size_t>(round)) {
      take(i, read_json(chatters[static_cast<std::size_t>(i)]));
    }
    all.insert(all.end(), ids.begin(), ids.end());
  }
  std::sort(all.begin(), all.end());

  // What reached the stalled client, then the reason, with the last id.
  const slow_consumer_drop drop = read_slow_consumer_drop(stalled);
  REQUIRE(drop.error["last_id"].is_number_unsigned());
  const auto last_id = drop.error["last_id"].get<std::uint64_t>();
  id_list before;
  for (const std::string& line : drop.before) {
    const json frame = json::parse(line);
    if (frame["type"] == "msg") before.push_back(frame.at("id").get<std::uint64_t>());
  }
  CHECK(last_id == (before.empty() ? 0 : before.back()));

  // Back, resuming from there, page after page.
  line_client back = hello_resuming(server.port(), "stalled", {{"lobby", last_id}});
  id_list replayed;
  std::size_t pages = 0;
  for (std::optional<std::uint64_t> next = last_id; next;) {
    if (pages++ > 0) {
      back.send_line(json{{"type", "resume"}, {"room", "lobby"}, {"after", *next}}.dump());
    }
    next.reset();
    for (const json& frame : frames_before_pong(back)) {
      INFO("frame " << frame.dump().substr(0, 200));
      if (frame["type"] == "more") {
        next = frame["after"].get<std::uint64_t>();
      } else {
        REQUIRE(frame["type"] == "msg");
        CHECK(frame["history"] == true);
        replayed.push_back(frame.at("id").get<std::uint64_t>());
      }
    }
    REQUIRE(pages < 100);
  }
  id_list seen = before;
  seen.insert(seen.end(), replayed.begin(), replayed.end());
  INFO(round << " rounds, " << before.size() << " messages before the drop, " << replayed.size()
             << " replayed in " << pages << " pages");
  CHECK(strictly_increasing(seen));
  CHECK(seen == all);
}

TEST_CASE("a disk that fills up: senders are told, delivery goes on, writing resumes",
          "[durability][disk-full]") {
  data_dir dir;
  child_process server(chat_server, {"--port", "0", "--data-dir", dir.string(), "--rate-limit", "0",
                                     "--max-per-ip", "0", "--drain-seconds", "0"});
  const std::uint16_t port = await_listening(server);
  line_client alice = join_json(port, "alice");
  line_client bob = join_json(port, "bob");
  expect_join(alice, "bob");
  auto expect_delivered = [&](const std::vector<std::string>& texts) {
    for (const std::string& text : texts) {
      const json frame = read_json(bob);
      CHECK(frame["type"] == "msg");
      CHECK(frame["text"] == text);
    }
  };

  // Enough on disk that the index has room to grow below the chunk file's size.
  const std::vector<std::string> kept = numbered(std::string(1000, 'k'), 300);
  std::uint64_t last_kept = 0;
  for (const json& frame : settle_all(alice, kept)) {
    REQUIRE(frame["type"] == "ack");
    last_kept = frame["id"].get<std::uint64_t>();
  }
  expect_delivered(kept);
  const auto chunks = dir.path() / chat::store::history_database::chunks_file_name;
  const auto full_at = std::filesystem::file_size(chunks);
  REQUIRE(full_at > 300'000);
  log_lines_now(server);

  // The chunk file may not grow: a full disk, for the server alone.
  set_file_size_limit(server.pid(), full_at);
  int ref = 1000;
  for (int burst = 0; burst < 3; ++burst) {
    INFO("burst " << burst);
    const std::vector<std::string> texts = numbered("lost " + std::to_string(burst) + "-", 5);
    std::vector<json> settled;
    try {
      settled = settle_all(alice, texts, ref);
    } catch (const std::exception& e) {
      FAIL("no answer (" << e.what() << "); " << exit_of(server));
    }
    for (const json& frame : settled) {
      INFO("frame " << frame.dump());
      CHECK(frame["type"] == "error");
      CHECK(frame["code"] == "storage-unavailable");
    }
    ref += 5;
    expect_delivered(texts);
  }
  std::vector<std::string> log = log_lines_now(server);
  {
    INFO("log: " << ::Catch::Detail::stringify(log));
    CHECK(count_containing(log, "cannot save") == 1);
  }

  // Room again: the next messages are stored and acked, and the log says so.
  set_file_size_limit(server.pid(), RLIM_INFINITY);
  const std::vector<std::string> after = numbered("after ", 5);
  const std::vector<json> settled = settle_all(alice, after, ref);
  for (const json& frame : settled) {
    INFO("frame " << frame.dump());
    CHECK(frame["type"] == "ack");
  }
  expect_delivered(after);
  const std::vector<std::string> later = log_lines_now(server);
  log.insert(log.end(), later.begin(), later.end());
  INFO("log: " << ::Catch::Detail::stringify(log));
  CHECK(count_containing(log, "cannot save") == 1);
  CHECK(count_containing(log, "work again;") == 1);

  // Meanwhile the server still has the unsaved messages in memory: a
  // client resuming now gets them all, from the ring.
  const std::uint64_t last_lost = settled.front()["id"].get<std::uint64_t>() - 1;
  {
    line_client carol = hello_resuming(port, "carol", {{"lobby", last_kept}});
    const std::vector<json> frames = frames_before_pong(carol);
    INFO("frames:\n" << describe(frames));
    REQUIRE(frames.size() == 20);
    CHECK(frames.front()["id"] == last_kept + 1);
    CHECK(frames.back()["id"] == settled.back()["id"]);
  }
  server.send_signal(SIGTERM);
  CHECK(server.wait(5s) == 0);

  // After a restart they are gone, and a client resuming from before them
  // is told so, then gets what was stored after.
  child_process again(chat_server,
                      {"--port", "0", "--data-dir", dir.string(), "--drain-seconds", "0"});
  line_client carol = hello_resuming(await_listening(again), "carol", {{"lobby", last_kept}});
  std::vector<json> frames = frames_before_pong(carol);
  INFO("frames after the restart:\n" << describe(frames));
  REQUIRE(frames.size() == 6);
  CHECK(frames[0]["type"] == "gap");
  CHECK(frames[0]["room"] == "lobby");
  CHECK(frames[0]["from"] == last_kept);
  // Up to the last lost one: the next was stored.
  CHECK(frames[0]["to"] == last_lost);
  check_replayed(std::vector<json>(frames.begin() + 1, frames.end()), "lobby", ids_of(settled));
  again.send_signal(SIGTERM);
  CHECK(again.wait(5s) == 0);
}
