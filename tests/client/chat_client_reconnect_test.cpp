// chat-client coming back after a lost connection: the hello that resumes
// its rooms, the replay shown once, more markers followed, gaps said, the
// name retried, typed lines held until it is back. A fake server plays the
// server's side line by line, so that every frame the client sends is seen.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "support/chat_client_run.hpp"
#include "support/fake_server.hpp"
#include "support/piped_process.hpp"

namespace {

using chat::test::fake_server;
using chat::test::next_line;
using chat::test::require_exit;
using chat::test::start_client;
using json = nlohmann::json;

constexpr auto deadline = chat::test::client_deadline;

// Past a reconnect's backoff: 0.5 s, then 1 s, 2 s at most here.
constexpr std::chrono::seconds accept_deadline{15};

std::string welcome(const char* room = "lobby") {
  return json{{"type", "welcome"}, {"user", "alice"}, {"room", room}, {"users", {"alice", "bob"}}}
             .dump() +
         "\n";
}

std::string message(const char* room, std::uint64_t id, const std::string& text,
                    bool history = false) {
  json m{{"type", "msg"}, {"id", id},      {"ts", 1'700'000'000'000},
         {"room", room},  {"from", "bob"}, {"text", text}};
  if (history) m["history"] = true;
  return m.dump() + "\n";
}

std::string joined(const char* room) {
  return json{{"type", "joined"}, {"room", room}, {"users", {"alice", "bob"}}}.dump() + "\n";
}

const std::string pong = "{\"type\":\"pong\"}\n";

json read_json_line(fake_server::peer& session) {
  const auto line = session.read_line(deadline);
  REQUIRE(line);
  INFO(*line);
  return json::parse(*line);
}

// The next line the client prints that is not the reconnect notice's
// repetition ("reconnect failed ..."): those depend on timing.
std::string next_steady_line(chat::test::piped_process& client) {
  for (;;) {
    std::string line = next_line(client);
    if (!line.starts_with("* reconnect failed")) return line;
  }
}

// Logs in as alice in the lobby and sees the welcome shown.
fake_server::peer first_session(fake_server& fake, chat::test::piped_process& client) {
  auto session = fake.accept(deadline);
  session.send("USER\n");
  CHECK(session.read_line(deadline) == R"({"type":"hello","user":"alice"})");
  session.send(welcome());
  CHECK(next_line(client).starts_with("* welcome alice"));
  return session;
}

// After a reconnect whose replay ended in a more marker for `room`: the ping
// after the hello, the next page asked for and its ping; the hello answered,
// the ping that ends the restoring (every room is back, the current one too).
void expect_next_page_asked(fake_server::peer& session, const char* room, std::uint64_t after) {
  CHECK(read_json_line(session) == json{{"type", "ping"}});
  CHECK(read_json_line(session) == json{{"type", "resume"}, {"room", room}, {"after", after}});
  CHECK(read_json_line(session) == json{{"type", "ping"}});
  session.send(pong);
  CHECK(read_json_line(session) == json{{"type", "ping"}});
}

// The client, told to end, says quit and exits with 0.
void expect_quit(fake_server::peer& session, chat::test::piped_process& client) {
  CHECK(read_json_line(session) == json{{"type", "quit"}});
  session.close();
  require_exit(client, 0);
}

}  // namespace

TEST_CASE("chat-client reconnects, resumes every room after what it saw, and shows each once",
          "[chat-client][reconnect]") {
  fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice"});
  {
    auto session = first_session(fake, client);
    session.send(message("lobby", 5, "five"));
    CHECK_THAT(next_line(client), Catch::EndsWith("bob: five"));
    client.write_stdin("/join dev\n");
    CHECK(read_json_line(session) == json{{"type", "join"}, {"room", "dev"}});
    CHECK(read_json_line(session) == json{{"type", "ping"}});
    session.send(joined("dev") + pong + message("dev", 8, "eight"));
    CHECK(next_line(client) == "* you joined dev with: alice, bob");
    CHECK_THAT(next_line(client), Catch::EndsWith("bob: eight"));
    // Dropped as a slow consumer: the error, then the server closes.
    session.send(
        json{{"type", "error"},
             {"code", "slow-consumer"},
             {"message", "you fell too far behind and were disconnected (last message id 8)"},
             {"last_id", 8}}
            .dump() +
        "\n");
    CHECK_THAT(next_line(client), Catch::StartsWith("! error slow-consumer:"));
    session.close();
  }
  CHECK_THAT(next_line(client),
             Catch::Matches(R"(\* connection lost \(the server closed the connection\); )"
                            R"(reconnecting in 0\.[2-5]s)"));
  // Typed while away: sent once the client is back, to the room then current.
  client.write_stdin("typed while away\n");

  auto session = fake.accept(accept_deadline);
  session.send("USER\n");
  CHECK(read_json_line(session) ==
        json{{"type", "hello"}, {"user", "alice"}, {"resume", {{"lobby", 5}, {"dev", 8}}}});
  session.send(welcome() + message("lobby", 6, "six", true) + joined("dev") +
               R"({"type":"gap","room":"dev","from":8,"to":10})"
               "\n" +
               message("dev", 11, "eleven", true) + message("lobby", 30, "live") +
               R"({"type":"more","room":"dev","after":11})"
               "\n");
  CHECK(next_line(client) == "* reconnected");
  CHECK(next_line(client).starts_with("* welcome alice"));
  CHECK_THAT(next_line(client), Catch::Matches(R"(\[history\] \[[-0-9 :]*\] bob: six)"));
  CHECK(next_line(client) == "* you joined dev with: alice, bob");
  CHECK(next_line(client) == "* messages in dev after 8 up to 10 may be missing");
  CHECK_THAT(next_line(client), Catch::Matches(R"(\[history\] .*bob: eleven)"));
  CHECK_THAT(next_line(client), Catch::EndsWith("[#lobby] bob: live"));

  // The next page asked for; dev is still current, so once the hello is
  // answered only the ping that ends the restoring follows.
  expect_next_page_asked(session, "dev", 11);
  session.send(message("dev", 12, "twelve", true) + pong + pong);
  CHECK_THAT(next_line(client), Catch::Matches(R"(\[history\] .*bob: twelve)"));
  const json typed = read_json_line(session);
  CHECK(typed["text"] == "typed while away");
  CHECK(typed["room"] == "dev");
  REQUIRE(typed["ref"].is_number_unsigned());
  // Its ack is not shown, nor are the client's own pongs: the next line is
  // the next message.
  session.send(json{{"type", "ack"}, {"ref", typed["ref"]}, {"id", 40}}.dump() + "\n" +
               message("dev", 41, "after"));
  CHECK_THAT(next_line(client), Catch::EndsWith("bob: after"));

  client.close_stdin();
  expect_quit(session, client);
}

TEST_CASE("chat-client restores the rooms it was in and the current one after a reconnect",
          "[chat-client][reconnect]") {
  fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice"});
  {
    auto session = first_session(fake, client);
    client.write_stdin("/join dev\n/join ops\n/leave lobby\n/join dev\n");
    for (const char* room : {"dev", "ops"}) {
      CHECK(read_json_line(session) == json{{"type", "join"}, {"room", room}});
      CHECK(read_json_line(session) == json{{"type", "ping"}});
      session.send(joined(room) + pong);
    }
    CHECK(read_json_line(session) == json{{"type", "leave"}, {"room", "lobby"}});
    CHECK(read_json_line(session) == json{{"type", "ping"}});
    session.send(R"({"type":"left","room":"lobby"})"
                 "\n" +
                 pong);
    CHECK(read_json_line(session) == json{{"type", "join"}, {"room", "dev"}});
    CHECK(read_json_line(session) == json{{"type", "ping"}});
    session.send(joined("dev") + pong);
    session.reset();
  }
  auto session = fake.accept(accept_deadline);
  session.send("USER\n");
  // ops then dev, dev current; nothing seen in either: they resume from the
  // last live id seen when they were joined (none here).
  CHECK(read_json_line(session) ==
        json{{"type", "hello"}, {"user", "alice"}, {"resume", {{"ops", 0}, {"dev", 0}}}});
  // A server that resumed dev but not ops, and put us in the lobby.
  session.send(welcome() + joined("dev"));
  CHECK(read_json_line(session) == json{{"type", "ping"}});
  session.send(pong);
  CHECK(read_json_line(session) == json{{"type", "resume"}, {"room", "ops"}, {"after", 0}});
  CHECK(read_json_line(session) == json{{"type", "leave"}, {"room", "lobby"}});
  CHECK(read_json_line(session) == json{{"type", "join"}, {"room", "dev"}});
  CHECK(read_json_line(session) == json{{"type", "ping"}});
  session.send(joined("ops") +
               R"({"type":"left","room":"lobby"})"
               "\n" +
               joined("dev") + pong);
  client.write_stdin("where am I\n");
  const json typed = read_json_line(session);
  CHECK(typed["room"] == "dev");
  CHECK(typed["text"] == "where am I");
  client.write_stdin("/quit\n");
  expect_quit(session, client);
}

TEST_CASE("chat-client retries while its name is still taken after a reconnect",
          "[chat-client][reconnect]") {
  fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice"});
  first_session(fake, client).reset();
  CHECK_THAT(next_line(client), Catch::StartsWith("* connection lost (") &&
                                    Catch::Contains("reset") && Catch::Contains("reconnecting in"));
  {
    auto refused = fake.accept(accept_deadline);
    refused.send("USER\n");
    CHECK(read_json_line(refused)["user"] == "alice");
    refused.send(R"({"type":"error","code":"name-taken","message":"the name alice is taken"})"
                 "\nUSER\n");
    CHECK_THAT(next_line(client),
               Catch::Matches(R"(\* reconnect failed \(the name alice is still taken, maybe by )"
                              R"(the lost session\); retrying in \d(\.\d)?s)"));
    // The client gives that connection up itself.
    CHECK(refused.read_line(deadline) == std::nullopt);
  }
  auto session = fake.accept(accept_deadline);
  session.send("USER\n");
  CHECK(read_json_line(session)["user"] == "alice");
  session.send(welcome());
  CHECK(next_steady_line(client) == "* reconnected");
  // Typed lines wait until the rooms are back.
  client.write_stdin("back\n/quit\n");
  CHECK(read_json_line(session) == json{{"type", "ping"}});
  session.send(pong);
  CHECK(read_json_line(session) == json{{"type", "ping"}});
  session.send(pong);
  CHECK(read_json_line(session)["text"] == "back");
  expect_quit(session, client);
}

TEST_CASE("chat-client ends while reconnecting on /quit, on the end of input, or on a bad name",
          "[chat-client][reconnect]") {
  fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice"});
  auto session = first_session(fake, client);

  SECTION("/quit: nothing to say goodbye to") {
    session.close();
    CHECK_THAT(next_line(client), Catch::StartsWith("* connection lost"));
    client.write_stdin("/quit\n");
    require_exit(client, 0);
  }
  SECTION("the end of input with every message confirmed") {
    session.close();
    CHECK_THAT(next_line(client), Catch::StartsWith("* connection lost"));
    client.close_stdin();
    require_exit(client, 0);
  }
  SECTION("the end of input with a message never confirmed") {
    client.write_stdin("did it arrive\n");
    CHECK(read_json_line(session)["ref"] == 1);
    session.close();
    CHECK_THAT(next_line(client),
               Catch::StartsWith("* 1 message(s) you sent were not yet confirmed"));
    CHECK_THAT(next_line(client), Catch::StartsWith("* connection lost"));
    client.close_stdin();
    require_exit(client, 1);
    CHECK_THAT(client.stderr_text(), Catch::Contains("never confirmed"));
  }
  SECTION("a name the server no longer takes") {
    session.close();
    auto again = fake.accept(accept_deadline);
    again.send("USER\n");
    CHECK(read_json_line(again)["user"] == "alice");
    again.send(R"({"type":"error","code":"bad-name","message":"no"})"
               "\n");
    require_exit(client, 1);
    CHECK_THAT(client.stderr_text(),
               Catch::Contains("login refused") && Catch::Contains("bad-name"));
  }
}

TEST_CASE("chat-client names the message the server could not store", "[chat-client]") {
  fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice", "--no-reconnect"});
  auto session = first_session(fake, client);
  client.write_stdin("keep me\nand me\n");
  const json first = read_json_line(session);
  const json second = read_json_line(session);
  CHECK(first["ref"] != second["ref"]);
  session.send(json{{"type", "error"},
                    {"code", "storage-unavailable"},
                    {"message", "your message was delivered but could not be stored"},
                    {"ref", second["ref"]}}
                   .dump() +
               "\n" + json{{"type", "ack"}, {"ref", first["ref"]}, {"id", 3}}.dump() + "\n" +
               R"({"type":"error","code":"storage-unavailable","message":"not stored","ref":99})"
               "\n");
  CHECK(next_line(client) ==
        "! error storage-unavailable: your message was delivered but could not be stored"
        " (your message to lobby: \"and me\")");
  // A ref the client never used: shown as any other error.
  CHECK(next_line(client) == "! error storage-unavailable: not stored");
  session.close();
  require_exit(client, 1);
}

TEST_CASE("chat-client --json: reconnect news on stderr, the script's pongs kept",
          "[chat-client][reconnect]") {
  fake_server fake;
  auto client = start_client(fake.port(), {"--user", "alice", "--json"});
  {
    auto session = fake.accept(deadline);
    session.send("USER\n");
    CHECK(session.read_line(deadline) == R"({"type":"hello","user":"alice"})");
    session.send(welcome() + message("lobby", 3, "three"));
    CHECK(json::parse(next_line(client))["type"] == "welcome");
    CHECK(json::parse(next_line(client))["id"] == 3);
    session.reset();
  }
  auto session = fake.accept(accept_deadline);
  session.send("USER\n");
  CHECK(read_json_line(session)["resume"] == json{{"lobby", 3}});
  session.send(welcome() + message("lobby", 4, "four", true) +
               R"({"type":"more","room":"lobby","after":4})"
               "\n");
  CHECK(json::parse(next_line(client))["type"] == "welcome");
  CHECK(json::parse(next_line(client))["id"] == 4);
  // A script sees the marker, though the client follows it itself.
  CHECK(json::parse(next_line(client))["type"] == "more");
  expect_next_page_asked(session, "lobby", 4);
  session.send(pong + pong);
  client.write_stdin("{\"type\":\"ping\"}\n");
  CHECK(read_json_line(session) == json{{"type", "ping"}});
  session.send(pong);
  CHECK(next_line(client) == R"({"type":"pong"})");
  client.close_stdin();
  expect_quit(session, client);
  CHECK_THAT(client.stderr_text(), Catch::Contains("chat-client: connection lost (") &&
                                       Catch::Contains("chat-client: reconnected"));
}
