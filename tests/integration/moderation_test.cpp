// Moderation: room and server operators, kicks, bans (by name and by
// address range, of a room and of the server) that outlive a restart, mutes,
// and private rooms that only their members see. Every point in both wire
// forms: JSON requests and events, plain commands and lines.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "accounts_scene.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

// Operators are accounts; each test's password is its name's.
line_client registered_json(std::uint16_t port, const std::string& name) {
  return register_json(port, name, name + " password");
}

line_client registered_plain(std::uint16_t port, const std::string& name) {
  line_client client = join_plain(port, name);
  client.send_line("/register " + name + " password");
  REQUIRE(client.read_line() ==
          "* " + name + " is registered: log in with its password from now on");
  return client;
}

// Logs in to an account made before (a restart, say).
line_client login_json(std::uint16_t port, const std::string& name) {
  line_client client(port);
  expect_prompt(client);
  client.send_line(
      json{{"type", "hello"}, {"user", name}, {"password", name + " password"}}.dump());
  const json welcome = read_json(client);
  INFO(welcome.dump());
  REQUIRE(welcome["type"] == "welcome");
  return client;
}

void join_room_json(line_client& client, const std::string& room) {
  client.send_line(json{{"type", "join"}, {"room", room}}.dump());
  const json joined = read_json(client);
  INFO(joined.dump());
  REQUIRE(joined["type"] == "joined");
}

void join_room_plain(line_client& client, const std::string& room) {
  client.send_line("/join " + room);
  const std::string joined = client.read_line();
  INFO(joined);
  REQUIRE(joined.starts_with("* you joined " + room));
}

json users_of(line_client& json_client, const std::string& room) {
  json_client.send_line(json{{"type", "who"}, {"room", room}}.dump());
  return read_json(json_client);
}

// The next error's code, past the frames of any other kind.
std::string next_error(line_client& client) {
  for (;;) {
    const std::string code = error_code_of(client.read_line());
    if (!code.empty()) return code;
  }
}

// Forgets what came before: what a test expects next is then the next frame.
void settle(line_client& json_client) { lines_before_pong(json_client); }
void settle_plain(line_client& plain_client) { lines_before_help(plain_client); }

}  // namespace

TEST_CASE("moderation: a kicked member is removed from the room for everyone", "[moderation]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  // alice makes dev and so holds it; dave gets operator from her.
  line_client alice = registered_json(server.port(), "alice");
  join_room_json(alice, "dev");
  line_client bob = join_plain(server.port(), "bob");
  join_room_plain(bob, "dev");
  line_client carol = join_json(server.port(), "carol");
  join_room_json(carol, "dev");
  line_client dave = registered_plain(server.port(), "dave");
  join_room_plain(dave, "dev");
  settle(alice);
  settle(carol);
  settle_plain(bob);
  settle_plain(dave);

  alice.send_line(R"({"type":"op","room":"dev","user":"dave"})");
  const json op{{"type", "op"}, {"room", "dev"}, {"user", "dave"}, {"by", "alice"}};
  CHECK(read_json(alice) == op);
  CHECK(read_json(carol) == op);
  CHECK(bob.read_line() == "* alice made dave an operator of dev");
  CHECK(dave.read_line() == "* alice made dave an operator of dev");

  SECTION("JSON: kick") {
    alice.send_line(R"({"type":"kick","room":"dev","user":"bob","reason":"spam"})");
    const json kicked{
        {"type", "kicked"}, {"room", "dev"}, {"user", "bob"}, {"by", "alice"}, {"reason", "spam"}};
    const json leave{{"type", "leave"}, {"room", "dev"}, {"user", "bob"}};
    CHECK(read_json(alice) == kicked);
    CHECK(read_json(alice) == leave);
    CHECK(read_json(carol) == kicked);
    CHECK(read_json(carol) == leave);
    CHECK(dave.read_line() == "* bob was kicked from dev by alice (spam)");
    CHECK(dave.read_line() == "* bob left dev");
    CHECK(bob.read_line() == "* bob was kicked from dev by alice (spam)");
    CHECK(bob.read_line() == "* you left dev");
    CHECK(users_of(carol, "dev")["users"] == json{"alice", "carol", "dave"});
    dave.send_line("/who");
    CHECK(dave.read_line() == "* users in dev: alice, carol, dave");
    bob.send_line("/who dev");
    CHECK(error_code_of(bob.read_line()) == "not-in-room");
    // A kick is not a ban: bob may come back.
    join_room_plain(bob, "dev");
  }
  SECTION("plain: /kick") {
    dave.send_line("/kick carol");
    const json kicked{{"type", "kicked"}, {"room", "dev"}, {"user", "carol"}, {"by", "dave"}};
    CHECK(dave.read_line() == "* carol was kicked from dev by dave");
    CHECK(dave.read_line() == "* carol left dev");
    CHECK(read_json(alice) == kicked);
    CHECK(read_json(alice) == json{{"type", "leave"}, {"room", "dev"}, {"user", "carol"}});
    CHECK(read_json(carol) == kicked);
    CHECK(read_json(carol) == json{{"type", "left"}, {"room", "dev"}});
    CHECK(bob.read_line() == "* carol was kicked from dev by dave");
    CHECK(bob.read_line() == "* carol left dev");
    CHECK(users_of(alice, "dev")["users"] == json{"alice", "bob", "dave"});
    CHECK(error_code_of(users_of(carol, "dev").dump()) == "not-in-room");
  }
  SECTION("deop: the power goes with it") {
    alice.send_line(R"({"type":"deop","room":"dev","user":"dave"})");
    const json deop{{"type", "deop"}, {"room", "dev"}, {"user", "dave"}, {"by", "alice"}};
    CHECK(read_json(alice) == deop);
    CHECK(dave.read_line() == "* alice took operator of dev from dave");
    dave.send_line("/kick bob");
    CHECK(error_code_of(dave.read_line()) == "not-operator");
    settle(carol);
    settle_plain(bob);
    // And plain /op gives it back, from an operator.
    alice.send_line(R"({"type":"op","room":"dev","user":"dave"})");
    CHECK(read_json(alice) == op);
    CHECK(dave.read_line() == "* alice made dave an operator of dev");
    dave.send_line("/deop alice");
    CHECK(dave.read_line() == "* dave took operator of dev from alice");
    CHECK(read_json(alice) ==
          json{{"type", "deop"}, {"room", "dev"}, {"user", "alice"}, {"by", "dave"}});
    alice.send_line(R"({"type":"kick","room":"dev","user":"bob"})");
    CHECK(read_json(alice)["code"] == "not-operator");
  }
}

TEST_CASE("moderation: who is not an operator is refused, in both forms", "[moderation]") {
  data_dir dir;
  auto config = with_accounts(dir);
  config.operators = {"root"};
  test_server server(config);
  line_client alice = registered_json(server.port(), "alice");
  join_room_json(alice, "dev");
  line_client bob = join_plain(server.port(), "bob");
  join_room_plain(bob, "dev");
  // A guest of the name of a server operator's account is no operator:
  // only a login to the account is.
  line_client root = join_json(server.port(), "root");
  join_room_json(root, "dev");
  settle(alice);
  settle_plain(bob);

  for (const char* request :
       {R"({"type":"kick","user":"alice"})", R"({"type":"ban","target":"alice"})",
        R"({"type":"mute","user":"alice"})", R"({"type":"op","user":"root"})",
        R"({"type":"mode","mode":"private"})", R"({"type":"bans"})",
        R"({"type":"kill","user":"alice"})", R"({"type":"gban","target":"10.0.0.0/8"})"}) {
    INFO(request);
    root.send_line(request);
    CHECK(read_json(root)["code"] == "not-operator");
  }
  for (const char* command :
       {"/kick alice", "/ban alice 10m", "/unban alice", "/mute alice", "/unmute alice", "/op bob",
        "/deop alice", "/invite bob", "/mode private", "/bans", "/kill alice", "/gban alice",
        "/gunban alice"}) {
    INFO(command);
    bob.send_line(command);
    CHECK(error_code_of(bob.read_line()) == "not-operator");
  }
  // Nothing happened to anyone.
  CHECK(lines_before_pong(alice).empty());
  CHECK(users_of(alice, "dev")["users"] == json{"alice", "bob", "root"});
}

TEST_CASE("moderation: a ban removes the member, keeps it out, and outlives a restart",
          "[moderation]") {
  data_dir dir;
  {
    test_server server(with_accounts(dir));
    line_client alice = registered_json(server.port(), "alice");
    join_room_json(alice, "dev");
    line_client dave = registered_plain(server.port(), "dave");
    join_room_plain(dave, "dev");
    line_client bob = join_plain(server.port(), "bob");
    join_room_plain(bob, "dev");
    line_client erin = join_json(server.port(), "erin");
    join_room_json(erin, "dev");
    settle(alice);
    alice.send_line(R"({"type":"op","user":"dave","room":"dev"})");
    CHECK(read_json(alice)["type"] == "op");
    settle(erin);
    settle_plain(dave);
    settle_plain(bob);

    // JSON: bob, for an hour.
    alice.send_line(
        R"({"type":"ban","room":"dev","target":"bob","duration":3600,"reason":"spam"})");
    const json banned = read_json(alice);
    INFO(banned.dump());
    CHECK(banned["type"] == "banned");
    CHECK(banned["room"] == "dev");
    CHECK(banned["target"] == "bob");
    CHECK(banned["by"] == "alice");
    CHECK(banned["reason"] == "spam");
    CHECK(banned["until"].is_number_integer());
    CHECK(read_json(alice) == json{{"type", "leave"}, {"room", "dev"}, {"user", "bob"}});
    CHECK(bob.read_line() == "* bob was banned from dev by alice for 3600 s (spam)");
    CHECK(bob.read_line() == "* you left dev");
    CHECK(dave.read_line() == "* bob was banned from dev by alice for 3600 s (spam)");
    CHECK(dave.read_line() == "* bob left dev");
    bob.send_line("/join dev");
    const std::string refused = bob.read_line();
    CHECK(error_code_of(refused) == "banned");
    CHECK(refused.find("try again in") != std::string::npos);

    // Plain: erin, for good.
    settle(erin);
    dave.send_line("/ban erin flooding");
    CHECK(dave.read_line() == "* erin was banned from dev by dave (flooding)");
    CHECK(dave.read_line() == "* erin left dev");
    CHECK(read_json(erin) == json{{"type", "banned"},
                                  {"room", "dev"},
                                  {"target", "erin"},
                                  {"by", "dave"},
                                  {"reason", "flooding"}});
    CHECK(read_json(erin) == json{{"type", "left"}, {"room", "dev"}});
    erin.send_line(R"({"type":"join","room":"DEV"})");
    const json erin_refused = read_json(erin);
    CHECK(erin_refused["code"] == "banned");
    CHECK_FALSE(erin_refused.contains("retry_after"));
    server.stop();
  }
  test_server server(with_accounts(dir));
  line_client bob = join_plain(server.port(), "bob");
  bob.send_line("/join dev");
  CHECK(error_code_of(bob.read_line()) == "banned");
  line_client erin = join_json(server.port(), "erin");
  erin.send_line(R"({"type":"resume","room":"dev","after":0})");
  CHECK(read_json(erin)["code"] == "banned");

  // The operators are kept too, and see the bans in both forms.
  line_client alice = login_json(server.port(), "alice");
  join_room_json(alice, "dev");
  alice.send_line(R"({"type":"bans","room":"dev"})");
  const json bans = read_json(alice);
  INFO(bans.dump());
  REQUIRE(bans["type"] == "bans");
  REQUIRE(bans["bans"].size() == 2);
  line_client dave(server.port());
  expect_prompt(dave);
  dave.send_line("dave");
  CHECK(dave.read_line() == "PASS");
  dave.send_line("dave password");
  CHECK(dave.read_line().starts_with("* welcome dave"));
  join_room_plain(dave, "dev");
  dave.send_line("/bans");
  const std::string listed = dave.read_line();
  INFO(listed);
  CHECK(listed.starts_with("* bans in dev: "));
  CHECK(listed.find("bob (by alice, ") != std::string::npos);
  CHECK(listed.find("erin (by dave: flooding)") != std::string::npos);

  // Lifted, in either form, the way in is open again.
  settle_plain(bob);
  settle(erin);
  dave.send_line("/unban bob");
  CHECK(dave.read_line() == "* bob was unbanned from dev by dave");
  join_room_plain(bob, "dev");
  alice.send_line(R"({"type":"unban","room":"dev","target":"ERIN"})");
  settle(alice);
  join_room_json(erin, "dev");
}

TEST_CASE("moderation: an address range ban at login, and /kill", "[moderation]") {
  data_dir dir;
  auto config = with_accounts(dir);
  config.operators = {"root"};
  test_server server(config);
  line_client root = registered_json(server.port(), "root");
  line_client bob = join_plain(server.port(), "bob");
  line_client carol = join_json(server.port(), "carol");
  settle(root);
  settle_plain(bob);

  SECTION("kill, in both forms") {
    root.send_line(R"({"type":"kill","user":"bob","reason":"bye"})");
    CHECK(read_json(root) ==
          json{{"type", "kicked"}, {"user", "bob"}, {"by", "root"}, {"reason", "bye"}});
    CHECK(bob.read_line() == "* bob was disconnected by root (bye)");
    bob.await_close();
    CHECK(read_json(carol) == json{{"type", "leave"}, {"room", "lobby"}, {"user", "bob"}});
    line_client admin = registered_plain(server.port(), "admin");
    settle(root);
    settle(carol);
    // Operators from the configuration only: admin is not one.
    admin.send_line("/kill carol");
    CHECK(error_code_of(admin.read_line()) == "not-operator");
  }
  SECTION("gban of 127.0.0.0/8 ends the sessions from there and refuses new ones") {
    root.send_line(R"({"type":"gban","target":"127.0.0.1/8","duration":600})");
    const json banned = read_json(root);
    INFO(banned.dump());
    CHECK(banned["type"] == "banned");
    CHECK(banned["target"] == "127.0.0.0/8");  // as the server writes it
    CHECK_FALSE(banned.contains("room"));
    CHECK(next_error(bob) == "banned");
    bob.await_close();
    CHECK(next_error(carol) == "banned");
    carol.await_close();

    line_client json_guest = server.connect();
    expect_prompt(json_guest);
    json_guest.send_line(R"({"type":"hello","user":"zed"})");
    const json refused = read_json(json_guest);
    CHECK(refused["code"] == "banned");
    CHECK(refused["retry_after"].is_number_unsigned());
    json_guest.await_close();
    line_client plain_guest = server.connect();
    expect_prompt(plain_guest);
    plain_guest.send_line("yan");
    CHECK(error_code_of(plain_guest.read_line()) == "banned");
    plain_guest.await_close();

    // The server operator's own login is never refused; it lifts the ban.
    line_client again = login_json(server.port(), "root");
    root.await_close();  // replaced by the new login
    again.send_line(R"({"type":"bans","room":"lobby"})");
    const json bans = read_json(again);
    INFO(bans.dump());
    CHECK(bans["bans"] == json::array({{{"target", "127.0.0.0/8"},
                                        {"by", "root"},
                                        {"until", banned["until"]},
                                        {"global", true}}}));
    again.send_line(R"({"type":"gunban","target":"127.0.0.0/8"})");
    CHECK(read_json(again)["type"] == "unbanned");
    join_plain(server.port(), "yan");
  }
  SECTION("plain /gban of a name, /gunban") {
    line_client admin = join_plain(server.port(), "admin");
    settle(root);
    line_client root_plain = server.connect();
    expect_prompt(root_plain);
    root_plain.send_line("root");
    CHECK(root_plain.read_line() == "PASS");
    root_plain.send_line("root password");
    CHECK(root_plain.read_line().starts_with("* welcome root"));
    root_plain.send_line("/gban carol 1h");
    CHECK(root_plain.read_line() == "* carol was banned from the server by root for 3600 s");
    CHECK(next_error(carol) == "banned");
    carol.await_close();
    line_client again = server.connect();
    expect_prompt(again);
    again.send_line("Carol");
    CHECK(error_code_of(again.read_line()) == "banned");
    root_plain.send_line("/gunban carol");
    settle_plain(root_plain);
    join_json(server.port(), "carol");
  }
}

TEST_CASE("moderation: a muted member's messages are refused", "[moderation]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  line_client alice = registered_json(server.port(), "alice");
  join_room_json(alice, "dev");
  line_client bob = join_plain(server.port(), "bob");
  join_room_plain(bob, "dev");
  line_client carol = join_json(server.port(), "carol");
  join_room_json(carol, "dev");
  line_client dave = registered_plain(server.port(), "dave");
  join_room_plain(dave, "dev");
  alice.send_line(R"({"type":"op","room":"dev","user":"dave"})");
  settle(alice);
  settle(carol);
  settle_plain(bob);
  settle_plain(dave);

  alice.send_line(R"({"type":"mute","room":"dev","user":"bob","reason":"calm down"})");
  const json muted{{"type", "muted"},
                   {"room", "dev"},
                   {"user", "bob"},
                   {"by", "alice"},
                   {"reason", "calm down"}};
  CHECK(read_json(alice) == muted);
  CHECK(read_json(carol) == muted);
  CHECK(bob.read_line() == "* bob was muted in dev by alice (calm down)");
  bob.send_line("anyone there?");
  CHECK(error_code_of(bob.read_line()) == "muted");
  // Muted in dev only, and still a member.
  bob.send_line("/who");
  CHECK(bob.read_line() == "* users in dev: alice, bob, carol, dave");
  CHECK(lines_before_pong(carol).empty());

  settle_plain(dave);
  dave.send_line("/mute carol 1s");
  CHECK(dave.read_line() == "* carol was muted in dev by dave for 1 s");
  const json carol_muted = read_json(carol);
  CHECK(carol_muted["type"] == "muted");
  CHECK(carol_muted["until"].is_number_integer());
  carol.send_line(R"({"type":"msg","room":"dev","text":"hm","ref":1})");
  const json refused = read_json(carol);
  CHECK(refused["code"] == "muted");
  CHECK(refused["retry_after"] == 1);
  std::this_thread::sleep_for(1100ms);
  settle(alice);
  carol.send_line(R"({"type":"msg","room":"dev","text":"free again","ref":2})");
  CHECK(read_json(carol)["type"] == "ack");
  CHECK(read_json(alice)["text"] == "free again");

  settle_plain(dave);
  dave.send_line("/unmute bob");
  CHECK(dave.read_line() == "* bob was unmuted in dev by dave");
  settle_plain(bob);
  bob.send_line("thanks");
  CHECK(read_json(alice) ==
        json{{"type", "unmuted"}, {"room", "dev"}, {"user", "bob"}, {"by", "dave"}});
  CHECK(read_json(alice)["text"] == "thanks");
}

TEST_CASE("moderation: a private room is invisible to non-members in rooms, who and history",
          "[moderation]") {
  data_dir dir;
  test_server server(with_accounts(dir));
  line_client alice = registered_json(server.port(), "alice");
  join_room_json(alice, "dev");
  line_client dave = registered_plain(server.port(), "dave");
  join_room_plain(dave, "dev");
  alice.send_line(R"({"type":"op","room":"dev","user":"dave"})");
  settle(alice);
  settle_plain(dave);
  dave.send_line("/mode private");
  CHECK(dave.read_line() == "* dave made dev private");
  CHECK(read_json(alice) ==
        json{{"type", "mode"}, {"room", "dev"}, {"by", "dave"}, {"mode", "private"}});
  alice.send_line(R"({"type":"msg","room":"dev","text":"secret plan","ref":1})");
  CHECK(read_json(alice)["type"] == "ack");
  settle_plain(dave);

  line_client erin = join_json(server.port(), "erin");
  line_client frank = join_plain(server.port(), "frank");
  settle(erin);
  erin.send_line(R"({"type":"rooms"})");
  CHECK(read_json(erin) == json{{"type", "rooms"}, {"rooms", {{{"room", "lobby"}, {"users", 4}}}}});
  frank.send_line("/rooms");
  CHECK(frank.read_line() == "* rooms: lobby (4)");
  // Members see it.
  settle(alice);
  alice.send_line(R"({"type":"rooms"})");
  CHECK(read_json(alice)["rooms"].size() == 2);
  for (const char* request :
       {R"({"type":"who","room":"dev"})", R"({"type":"history","room":"dev"})",
        R"({"type":"topic","room":"dev"})"}) {
    INFO(request);
    erin.send_line(request);
    CHECK(read_json(erin)["code"] == "not-in-room");
  }
  frank.send_line("/who dev");
  CHECK(error_code_of(frank.read_line()) == "not-in-room");
  // Neither a join nor a resume (the way to history of a room one is not
  // in) gets in without an invitation.
  erin.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(erin)["code"] == "not-invited");
  erin.send_line(R"({"type":"resume","room":"dev","after":0})");
  CHECK(read_json(erin)["code"] == "not-invited");
  frank.send_line("/join dev");
  CHECK(error_code_of(frank.read_line()) == "not-invited");
  frank.send_line("/resume dev 0");
  CHECK(error_code_of(frank.read_line()) == "not-invited");
  line_client resumer(server.port());
  expect_prompt(resumer);
  resumer.send_line(R"({"type":"hello","user":"gus","resume":{"dev":0}})");
  CHECK(read_json(resumer)["type"] == "welcome");
  CHECK(read_json(resumer)["code"] == "not-invited");
  CHECK(lines_before_pong(resumer).empty());

  // An invitation lets one in, once.
  settle(alice);
  settle(erin);
  settle_plain(dave);
  settle_plain(frank);
  alice.send_line(R"({"type":"invite","room":"dev","user":"erin"})");
  const json invited{{"type", "invited"}, {"room", "dev"}, {"user", "erin"}, {"by", "alice"}};
  CHECK(read_json(alice) == invited);
  CHECK(read_json(erin) == invited);
  dave.send_line("/invite frank");
  CHECK(dave.read_line() == "* dave invited frank to dev");
  CHECK(frank.read_line() == "* dave invited frank to dev");
  erin.send_line(R"({"type":"join","room":"dev"})");
  CHECK(read_json(erin)["type"] == "joined");
  const json history = read_json(erin);
  CHECK(history["text"] == "secret plan");
  CHECK(history["history"] == true);
  join_room_plain(frank, "dev");
  CHECK(frank.read_line() == "[history] [#dev] alice: secret plan");
  frank.send_line("/rooms");
  CHECK(frank.read_line() == "* rooms: dev (4), lobby (5)");
  frank.send_line("/leave dev");
  CHECK(frank.read_line() == "* you left dev");
  frank.send_line("/join dev");
  CHECK(error_code_of(frank.read_line()) == "not-invited");

  // Public again: anyone may join.
  alice.send_line(R"({"type":"mode","room":"dev","mode":"public"})");
  settle(alice);
  join_room_plain(frank, "dev");
}

TEST_CASE("moderation: requests that make no sense are bad requests", "[moderation]") {
  data_dir dir;
  auto config = with_accounts(dir);
  config.operators = {"root"};
  test_server server(config);
  line_client root = registered_json(server.port(), "root");
  root.send_line(R"({"type":"mode","mode":"private"})");
  CHECK(read_json(root)["code"] == "bad-request");  // the default room is everyone's
  root.send_line(R"({"type":"ban","target":"bob"})");
  CHECK(read_json(root)["code"] == "bad-request");  // from the default room: /gban
  root.send_line(R"({"type":"ban","room":"dev","target":"10.0.0.0/33"})");
  CHECK(read_json(root)["code"] == "bad-request");
  root.send_line(R"({"type":"mute","room":"dev","user":"bob","duration":0})");
  CHECK(read_json(root)["code"] == "bad-request");
  root.send_line(R"({"type":"mode","room":"dev","mode":"secret"})");
  CHECK(read_json(root)["code"] == "bad-request");
  root.send_line(R"({"type":"kick","room":"dev","user":"nobody"})");
  CHECK(read_json(root)["code"] == "no-such-user");
  root.send_line(R"({"type":"invite","room":"dev","user":"bob"})");
  CHECK(read_json(root)["code"] == "bad-request");  // dev is public
}

TEST_CASE("moderation: without --data-dir there are no operators", "[moderation]") {
  // No accounts, so no one is an operator: every moderation request is refused.
  test_server server;
  line_client alice = join_json(server.port(), "alice");
  alice.send_line(R"({"type":"kick","user":"alice"})");
  CHECK(read_json(alice)["code"] == "not-operator");
}
