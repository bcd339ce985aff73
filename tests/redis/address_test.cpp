#include <catch2/catch.hpp>

#include <string>

#include "redis/address.hpp"

using chat::redis::address;
using chat::redis::address_error;
using chat::redis::parse_address;

TEST_CASE("addresses with and without port and database") {
  CHECK(parse_address("redis://localhost") == address{"localhost", 6379, 0});
  CHECK(parse_address("redis://cache.example.com:7000") == address{"cache.example.com", 7000, 0});
  CHECK(parse_address("redis://10.0.0.7:6380/3") == address{"10.0.0.7", 6380, 3});
  CHECK(parse_address("redis://redis/2") == address{"redis", 6379, 2});
  CHECK(parse_address("redis://[::1]:6390/1") == address{"::1", 6390, 1});
  CHECK(parse_address("redis://[fe80::1:2]") == address{"fe80::1:2", 6379, 0});
  CHECK(parse_address("redis://[::ffff:127.0.0.1]:1") == address{"::ffff:127.0.0.1", 1, 0});
  CHECK(parse_address("redis://h:65535/0") == address{"h", 65535, 0});
}

TEST_CASE("an address reads back from its text") {
  for (const char* text : {"redis://localhost:6379", "redis://[::1]:6390/4", "redis://a.b:1/2"}) {
    CHECK(parse_address(text).to_string() == text);
    CHECK(parse_address(parse_address(text).to_string()) == parse_address(text));
  }
}

namespace {

// The reason `text` is refused.
std::string refusal(const std::string& text) {
  try {
    parse_address(text);
  } catch (const address_error& e) {
    return e.what();
  }
  FAIL("accepted: " << text);
  return {};
}

}  // namespace

TEST_CASE("bad addresses are refused with a reason") {
  CHECK(refusal("localhost:6379").find("redis://") != std::string::npos);
  CHECK(refusal("rediss://h").find("redis://") != std::string::npos);
  CHECK(refusal("redis://").find("host is missing") != std::string::npos);
  CHECK(refusal("redis://:6379").find("host is missing") != std::string::npos);
  CHECK(refusal("redis://h:").find("port") != std::string::npos);
  CHECK(refusal("redis://h:0").find("port") != std::string::npos);
  CHECK(refusal("redis://h:65536").find("port") != std::string::npos);
  CHECK(refusal("redis://h:12a").find("port") != std::string::npos);
  CHECK(refusal("redis://h:-1").find("port") != std::string::npos);
  CHECK(refusal("redis://h/").find("database") != std::string::npos);
  CHECK(refusal("redis://h/x").find("database") != std::string::npos);
  CHECK(refusal("redis://h/-1").find("database") != std::string::npos);
  CHECK(refusal("redis://h/99999999999").find("database") != std::string::npos);
  CHECK(refusal("redis://::1:6379").find("brackets") != std::string::npos);
  CHECK(refusal("redis://[::1").find("']'") != std::string::npos);
  CHECK(refusal("redis://[::1]x").find("':PORT'") != std::string::npos);
  CHECK(refusal("redis://[zz]").find("IPv6") != std::string::npos);
  CHECK(refusal("redis://user:pw@h").find("password") != std::string::npos);
  CHECK(refusal("redis://bad host").find("host name") != std::string::npos);
  CHECK(refusal("redis://-h").find("host name") != std::string::npos);
  CHECK(refusal("redis://a..b").find("host name") != std::string::npos);
  CHECK(refusal("redis://h:1/2/3").find("database") != std::string::npos);
  // The text is quoted back, so a flag's value is recognisable in the message.
  CHECK(refusal("redis://h:0").find("'redis://h:0'") != std::string::npos);
}
