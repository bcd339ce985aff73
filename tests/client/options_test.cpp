#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

#include "client/options.hpp"

namespace {

using namespace chat::client;

parsed_options parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"chat-client"};
  argv.insert(argv.end(), args);
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

options parsed(std::initializer_list<const char*> args) {
  const auto result = parse(args);
  REQUIRE(std::holds_alternative<options>(result));
  return std::get<options>(result);
}

std::string error_of(std::initializer_list<const char*> args) {
  const auto result = parse(args);
  REQUIRE(std::holds_alternative<usage_error>(result));
  return std::get<usage_error>(result).message;
}

}  // namespace

TEST_CASE("options default to a local server and an asked name", "[options]") {
  const auto opts = parsed({});
  CHECK(opts.host == "127.0.0.1");
  CHECK(opts.port == 7777);
  CHECK_FALSE(opts.user);
  CHECK_FALSE(opts.json);
  CHECK_FALSE(opts.tls);
}

TEST_CASE("options take --tls, alone or with --ca or --insecure", "[options][tls]") {
  const auto system_store = parsed({"--tls"});
  REQUIRE(system_store.tls);
  CHECK(system_store.tls->ca_file.empty());
  CHECK_FALSE(system_store.tls->insecure);

  const auto with_ca = parsed({"--ca=ca.pem", "--tls"});
  REQUIRE(with_ca.tls);
  CHECK(with_ca.tls->ca_file == "ca.pem");
  CHECK_FALSE(with_ca.tls->insecure);

  const auto insecure = parsed({"--tls", "--insecure"});
  REQUIRE(insecure.tls);
  CHECK(insecure.tls->insecure);
  CHECK(insecure.tls->ca_file.empty());
}

TEST_CASE("options refuse --ca and --insecure without --tls, or together", "[options][tls]") {
  CHECK(error_of({"--ca", "ca.pem"}) == "--ca needs --tls");
  CHECK(error_of({"--insecure"}) == "--insecure needs --tls");
  CHECK_THAT(error_of({"--tls", "--ca", "ca.pem", "--insecure"}),
             Catch::Contains("--ca") && Catch::Contains("--insecure"));
  CHECK(error_of({"--tls", "--ca"}).find("--ca") != std::string::npos);
  CHECK(error_of({"--tls=yes"}).find("--tls") != std::string::npos);
  CHECK(error_of({"--tls", "--insecure=no"}).find("--insecure") != std::string::npos);
}

TEST_CASE("options take every flag, spaced or with =", "[options]") {
  const auto opts = parsed({"--host", "::1", "--port=65535", "--user", "alice", "--json"});
  CHECK(opts.host == "::1");
  CHECK(opts.port == 65535);
  CHECK(opts.user == "alice");
  CHECK(opts.json);
  CHECK(parsed({"--port", "1"}).port == 1);
  CHECK(std::holds_alternative<usage_text>(parse({"--help"})));
}

TEST_CASE("options refuse bad ports naming the value and the range", "[options]") {
  for (const char* port : {"0", "65536", "77777", "-1", "+80", "80x", "abc", " 80"}) {
    INFO(port);
    const std::string message = error_of({"--port", port});
    CHECK(message.find(std::string("'") + port + "'") != std::string::npos);
    CHECK(message.find("1 to 65535") != std::string::npos);
  }
}

TEST_CASE("options refuse unknown flags and missing values", "[options]") {
  CHECK(error_of({"--colour"}).find("--colour") != std::string::npos);
  CHECK(error_of({"--user"}).find("--user") != std::string::npos);
  CHECK(error_of({"--user="}).find("--user") != std::string::npos);
  CHECK(error_of({"--json=yes"}).find("--json") != std::string::npos);
}

TEST_CASE("options: reconnecting is the default, --no-reconnect turns it off", "[options]") {
  CHECK(parsed({}).reconnect);
  CHECK_FALSE(parsed({"--no-reconnect"}).reconnect);
  CHECK(error_of({"--no-reconnect=yes"}).find("--no-reconnect") != std::string::npos);
  const auto help = std::get<usage_text>(parse({"--help"})).text;
  CHECK(help.find("--no-reconnect") != std::string::npos);
  CHECK(help.find("--resume ROOM=ID") != std::string::npos);
}

TEST_CASE("options: --resume ROOM=ID, repeatable, in order", "[options]") {
  using resumed = std::vector<std::pair<std::string, std::uint64_t>>;
  CHECK(parsed({}).resume.empty());
  CHECK(parsed({"--resume", "dev=1234", "--resume=lobby=0"}).resume ==
        resumed{{"dev", 1234}, {"lobby", 0}});
  for (const char* bad : {"dev", "=5", "dev=", "dev=x", "dev=-1"}) {
    INFO(bad);
    const std::string message = error_of({"--resume", bad});
    CHECK(message.find("ROOM=ID") != std::string::npos);
  }
}

TEST_CASE("options take --password-file and --register, never a password itself",
          "[options][accounts]") {
  const auto opts = parsed({"--user", "alice", "--password-file", "pw.txt", "--register"});
  CHECK(opts.password_file == "pw.txt");
  CHECK(opts.register_account);
  const auto plain = parsed({"--user", "alice"});
  CHECK_FALSE(plain.password_file);
  CHECK_FALSE(plain.register_account);
  CHECK_THAT(error_of({"--password-file"}), Catch::Contains("--password-file"));
  CHECK_THAT(error_of({"--password-file="}), Catch::Contains("--password-file"));
  CHECK_THAT(error_of({"--password", "secret"}), Catch::Contains("--password"));
}
