#include <catch2/catch.hpp>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <variant>

#include "temp_file.hpp"
#include "client/password_source.hpp"

namespace {

using namespace chat::client;
using chat::test::temp_file;

std::variant<std::optional<std::string>, password_error> from(const std::string& file,
                                                              const char* environment) {
  options opts;
  if (!file.empty()) opts.password_file = file;
  return initial_password(opts, environment);
}

std::optional<std::string> known(
    const std::variant<std::optional<std::string>, password_error>& r) {
  INFO((std::holds_alternative<password_error>(r) ? std::get<password_error>(r).message : ""));
  REQUIRE(std::holds_alternative<std::optional<std::string>>(r));
  return std::get<std::optional<std::string>>(r);
}

}  // namespace

TEST_CASE("password source: a file's first line, without its line end", "[password_source]") {
  CHECK(first_line("secret 123\nsecond\n") == "secret 123");
  CHECK(first_line("secret\r\n") == "secret");
  CHECK(first_line("no line end") == "no line end");
  CHECK(first_line("\nsecret") == "");
  const temp_file file("  spaced secret \nnot this\n");
  CHECK(known(from(file.path(), "from-env")) == "  spaced secret ");
}

TEST_CASE("password source: the environment when there is no file, else none",
          "[password_source]") {
  CHECK(known(from({}, "from-env")) == "from-env");
  CHECK(known(from({}, "")) == std::nullopt);
  CHECK(known(from({}, nullptr)) == std::nullopt);
}

TEST_CASE("password source: a missing file or an empty first line is an error",
          "[password_source]") {
  const auto missing = from("/nonexistent/chat-password", "from-env");
  REQUIRE(std::holds_alternative<password_error>(missing));
  CHECK_THAT(std::get<password_error>(missing).message,
             Catch::Contains("/nonexistent/chat-password"));
  const temp_file empty("\nsecret\n");
  const auto blank = from(empty.path(), nullptr);
  REQUIRE(std::holds_alternative<password_error>(blank));
  CHECK_THAT(std::get<password_error>(blank).message, Catch::Contains("empty"));
}

TEST_CASE("password source: echo_off leaves what is not a terminal alone", "[password_source]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  {
    echo_off guard(fds[0]);
    CHECK_FALSE(guard.active());
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("password source: echo_off turns a terminal's echo off, then back on",
          "[password_source]") {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  REQUIRE(master != -1);
  REQUIRE(::grantpt(master) == 0);
  REQUIRE(::unlockpt(master) == 0);
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  REQUIRE(slave != -1);
  termios before{};
  REQUIRE(::tcgetattr(slave, &before) == 0);
  REQUIRE((before.c_lflag & ECHO) != 0);
  {
    echo_off guard(slave);
    CHECK(guard.active());
    termios during{};
    REQUIRE(::tcgetattr(slave, &during) == 0);
    CHECK((during.c_lflag & ECHO) == 0);
    CHECK((during.c_lflag & ECHONL) != 0);
  }
  termios after{};
  REQUIRE(::tcgetattr(slave, &after) == 0);
  CHECK(after.c_lflag == before.c_lflag);
  ::close(slave);
  ::close(master);
}
