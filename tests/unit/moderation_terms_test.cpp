// The terms of moderation that need no server: address ranges as bans name
// them, durations as plain commands write them, the requests and events of
// both wire forms, and the flags that name server operators.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "protocol/address_range.hpp"
#include "protocol/moderation_event.hpp"
#include "protocol/request.hpp"
#include "server/config.hpp"

namespace {

using nlohmann::json;
namespace protocol = chat::protocol;
namespace request = protocol::request;
using protocol::address_range;

template <class T>
T decoded_as(const protocol::decoded<protocol::any_request>& decoded) {
  const auto* any = std::get_if<protocol::any_request>(&decoded);
  REQUIRE(any != nullptr);
  const T* value = std::get_if<T>(any);
  REQUIRE(value != nullptr);
  return *value;
}

std::string error_of(const protocol::decoded<protocol::any_request>& decoded) {
  const auto* error = std::get_if<protocol::decode_error>(&decoded);
  return error == nullptr ? std::string() : std::string(protocol::to_string(error->code));
}

}  // namespace

TEST_CASE("address ranges: IPv4, with and without a prefix", "[moderation]") {
  const auto net = address_range::parse("10.1.2.3/8");
  REQUIRE(net);
  CHECK(net->text() == "10.0.0.0/8");
  CHECK(net->contains("10.0.0.1"));
  CHECK(net->contains("10.255.255.255"));
  CHECK_FALSE(net->contains("11.0.0.0"));
  CHECK_FALSE(net->contains("9.255.255.255"));
  // IPv4 peers through an IPv6 socket.
  CHECK(net->contains("::ffff:10.9.8.7"));
  CHECK_FALSE(net->contains("::1"));
  CHECK_FALSE(net->contains("not an address"));

  const auto one = address_range::parse("192.168.1.20");
  REQUIRE(one);
  CHECK(one->text() == "192.168.1.20");
  CHECK(one->contains("192.168.1.20"));
  CHECK_FALSE(one->contains("192.168.1.21"));

  const auto odd = address_range::parse("192.168.1.130/25");
  REQUIRE(odd);
  CHECK(odd->text() == "192.168.1.128/25");
  CHECK(odd->contains("192.168.1.255"));
  CHECK_FALSE(odd->contains("192.168.1.127"));

  const auto all = address_range::parse("0.0.0.0/0");
  REQUIRE(all);
  CHECK(all->contains("203.0.113.9"));
  CHECK_FALSE(all->contains("2001:db8::1"));
}

TEST_CASE("address ranges: IPv6", "[moderation]") {
  const auto net = address_range::parse("2001:DB8:1::5/32");
  REQUIRE(net);
  CHECK(net->text() == "2001:db8::/32");
  CHECK(net->contains("2001:db8:ffff::1"));
  CHECK_FALSE(net->contains("2001:db9::1"));
  CHECK_FALSE(net->contains("10.0.0.1"));
  const auto host = address_range::parse("::1");
  REQUIRE(host);
  CHECK(host->text() == "::1");
  CHECK(host->contains("::1"));
  CHECK_FALSE(host->contains("::2"));
  const auto odd = address_range::parse("fe80::/10");
  REQUIRE(odd);
  CHECK(odd->contains("febf::1"));
  CHECK_FALSE(odd->contains("fec0::1"));
}

TEST_CASE("address ranges: what is not one", "[moderation]") {
  for (const char* text :
       {"", "bob", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/8/8", "10.0.0",
        "1.2.3.4.5", "/8", "10.0.0.0/-1", "10.0.0.0/ 8"}) {
    INFO(text);
    CHECK_FALSE(address_range::parse(text));
  }
}

TEST_CASE("durations: 30s, 10m, 2h, 7d, bare seconds", "[moderation]") {
  CHECK(protocol::parse_duration("30s") == 30u);
  CHECK(protocol::parse_duration("10m") == 600u);
  CHECK(protocol::parse_duration("2h") == 7200u);
  CHECK(protocol::parse_duration("7d") == 7u * 86'400);
  CHECK(protocol::parse_duration("45") == 45u);
  CHECK(protocol::parse_duration("3650d") == protocol::max_moderation_seconds);
  for (const char* text : {"", "0", "0s", "s", "10x", "-5", "1.5h", "10M", "3651d", "h2",
                           "99999999999999999999", " 5"}) {
    INFO(text);
    CHECK_FALSE(protocol::parse_duration(text));
  }
}

TEST_CASE("moderation requests: plain commands", "[moderation]") {
  const auto ban = decoded_as<request::ban>(protocol::decode_plain_request("/ban bob 10m no spam"));
  CHECK(ban.target == "bob");
  CHECK(ban.duration_s == 600u);
  CHECK(ban.reason == "no spam");
  CHECK_FALSE(ban.global);
  const auto forever = decoded_as<request::ban>(protocol::decode_plain_request("/ban bob spam"));
  CHECK_FALSE(forever.duration_s);
  CHECK(forever.reason == "spam");
  const auto range =
      decoded_as<request::ban>(protocol::decode_plain_request("/gban 2001:db8::1/32 7d"));
  CHECK(range.target == "2001:db8::/32");
  CHECK(range.global);
  CHECK(range.reason.empty());
  const auto kick =
      decoded_as<request::kick>(protocol::decode_plain_request("/kick carol be nice"));
  CHECK(kick.user == "carol");
  CHECK(kick.reason == "be nice");
  CHECK(decoded_as<request::op>(protocol::decode_plain_request("/deop dave")).grant == false);
  CHECK(decoded_as<request::mode>(protocol::decode_plain_request("/mode private")).private_room);
  CHECK(decoded_as<request::mute>(protocol::decode_plain_request("/mute bob 30s")).duration_s ==
        30u);
  CHECK(decoded_as<request::unban>(protocol::decode_plain_request("/gunban 10.0.0.1")).global);
  std::get<request::bans>(std::get<protocol::any_request>(protocol::decode_plain_request("/bans")));

  CHECK(error_of(protocol::decode_plain_request("/kick")) == "bad-request");
  CHECK(error_of(protocol::decode_plain_request("/kick b@d")) == "bad-name");
  CHECK(error_of(protocol::decode_plain_request("/ban 10.0.0.0/40")) == "bad-request");
  CHECK(error_of(protocol::decode_plain_request("/mode secret")) == "bad-request");
  CHECK(error_of(protocol::decode_plain_request("/invite")) == "bad-request");
  CHECK(error_of(protocol::decode_plain_request("/kick bob \x1b[2J")) == "bad-request");
}

TEST_CASE("moderation requests: JSON, in both readings of a frame", "[moderation]") {
  for (auto decode : {protocol::decode_json_request, protocol::decode_json_request_with_dom}) {
    const auto ban = decoded_as<request::ban>(
        decode(R"({"type":"ban","room":"#Dev","target":"10.0.0.0/8","duration":60,"reason":"r"})"));
    CHECK(ban.room == "Dev");
    CHECK(ban.target == "10.0.0.0/8");
    CHECK(ban.duration_s == 60u);
    CHECK(ban.reason == "r");
    const auto mode = decoded_as<request::mode>(decode(R"({"type":"mode","mode":"public"})"));
    CHECK_FALSE(mode.private_room);
    CHECK(decoded_as<request::kill>(decode(R"({"type":"kill","user":"bob"})")).user == "bob");
    CHECK(error_of(decode(R"({"type":"ban"})")) == "bad-request");
    CHECK(error_of(decode(R"({"type":"ban","target":"x","duration":0})")) == "bad-request");
    CHECK(error_of(decode(R"({"type":"ban","target":"x","duration":"1h"})")) == "bad-request");
    CHECK(error_of(decode(R"({"type":"mute","user":"x","reason":7})")) == "bad-request");
    CHECK(error_of(decode(R"({"type":"op","user":"not a name"})")) == "bad-name");
    CHECK(error_of(decode(R"({"type":"mode","mode":"hidden"})")) == "bad-request");
  }
}

TEST_CASE("moderation events in both forms", "[moderation]") {
  protocol::moderation_event kicked;
  kicked.type = "kicked";
  kicked.room = "dev";
  kicked.target = "bob";
  kicked.by = "alice";
  kicked.reason = "spam";
  CHECK(protocol::encode_moderation(protocol::session_mode::plain, kicked) ==
        "* bob was kicked from dev by alice (spam)\n");
  CHECK(json::parse(protocol::encode_moderation(protocol::session_mode::json, kicked)) ==
        json{{"type", "kicked"},
             {"room", "dev"},
             {"user", "bob"},
             {"by", "alice"},
             {"reason", "spam"}});

  protocol::moderation_event banned;
  banned.type = "banned";
  banned.target = "10.0.0.0/8";
  banned.by = "root";
  banned.until_ms = 1'000'000;
  banned.duration_s = 600;
  CHECK(protocol::encode_moderation(protocol::session_mode::plain, banned) ==
        "* 10.0.0.0/8 was banned from the server by root for 600 s\n");
  CHECK(json::parse(protocol::encode_moderation(protocol::session_mode::json, banned)) ==
        json{{"type", "banned"}, {"target", "10.0.0.0/8"}, {"by", "root"}, {"until", 1'000'000}});

  const std::vector<protocol::ban_entry> bans{{"bob", "alice", "spam", 61'000, false},
                                              {"10.0.0.0/8", "root", "", std::nullopt, true}};
  CHECK(protocol::encode_bans(protocol::session_mode::plain, "dev", bans, 0) ==
        "* bans in dev: bob (by alice, 61 s left: spam), 10.0.0.0/8 (server-wide, by root)\n");
  CHECK(protocol::encode_bans(protocol::session_mode::plain, "dev", {}, 0) ==
        "* bans in dev: none\n");
  CHECK(json::parse(protocol::encode_bans(protocol::session_mode::json, "dev", bans, 0)) ==
        json{{"type", "bans"},
             {"room", "dev"},
             {"bans",
              {{{"target", "bob"}, {"by", "alice"}, {"until", 61'000}, {"reason", "spam"}},
               {{"target", "10.0.0.0/8"}, {"by", "root"}, {"global", true}}}}});
}

TEST_CASE("server operators: --operator and --operators-file", "[moderation]") {
  namespace server = chat::server;
  const std::string file =
      (std::filesystem::temp_directory_path() / ("operators-" + std::to_string(::getpid())))
          .string();
  {
    std::ofstream out(file);
    out << "# who keeps order\n  root  \n\nadmin # the other one\n";
  }
  const char* ok[] = {"chat-server", "--data-dir", "/tmp/x",           "--operator", "alice",
                      "--operator",  "bob",        "--operators-file", file.c_str()};
  const auto parsed = server::parse_args(9, ok);
  const auto* config = std::get_if<server::config>(&parsed);
  REQUIRE(config != nullptr);
  CHECK(config->operators == std::vector<std::string>{"alice", "bob", "root", "admin"});

  const char* bad_name[] = {"chat-server", "--data-dir", "/tmp/x", "--operator", "no one"};
  CHECK(std::holds_alternative<server::usage_error>(server::parse_args(5, bad_name)));
  const char* no_dir[] = {"chat-server", "--operator", "alice"};
  CHECK(std::holds_alternative<server::usage_error>(server::parse_args(3, no_dir)));
  {
    std::ofstream out(file);
    out << "root\nnot a name\n";
  }
  const char* bad_file[] = {"chat-server", "--data-dir", "/tmp/x", "--operators-file",
                            file.c_str()};
  const auto refused = server::parse_args(5, bad_file);
  REQUIRE(std::holds_alternative<server::usage_error>(refused));
  CHECK(std::get<server::usage_error>(refused).message.find("line 2") != std::string::npos);
  std::filesystem::remove(file);
  const char* missing[] = {"chat-server", "--data-dir", "/tmp/x", "--operators-file",
                           "/nonexistent/operators"};
  CHECK(std::holds_alternative<server::usage_error>(server::parse_args(5, missing)));
}
