#include <catch2/catch.hpp>

#include <string>

#include "protocol/names.hpp"

namespace {

using chat::protocol::fold_name;
using chat::protocol::is_valid_name;
using chat::protocol::max_name_length;

bool is_allowed_name_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

TEST_CASE("names are 1 to 32 of A-Z a-z 0-9 _ . -", "[names]") {
  CHECK(max_name_length == 32);
  CHECK(is_valid_name("alice"));
  CHECK(is_valid_name("Bob_the.2nd-"));
  CHECK(is_valid_name("a"));
  CHECK(is_valid_name("-"));
  CHECK(is_valid_name("..."));
  CHECK(is_valid_name(std::string(32, 'z')));

  CHECK_FALSE(is_valid_name(""));
  CHECK_FALSE(is_valid_name(std::string(33, 'z')));
  CHECK_FALSE(is_valid_name("alice bob"));
  CHECK_FALSE(is_valid_name(" alice"));
  CHECK_FALSE(is_valid_name("{\"type\":\"hello\"}"));
  CHECK_FALSE(is_valid_name("caf\xC3\xA9"));
  CHECK_FALSE(is_valid_name(std::string("al\0ce", 5)));
}

TEST_CASE("is_valid_name accepts exactly the allowed bytes", "[names]") {
  for (int byte = 0; byte < 256; ++byte) {
    const std::string name = "ab" + std::string(1, static_cast<char>(byte)) + "cd";
    INFO("byte " << byte);
    CHECK(is_valid_name(name) == is_allowed_name_byte(static_cast<unsigned char>(byte)));
  }
}

TEST_CASE("fold_name makes names that differ only in ASCII case equal", "[names]") {
  CHECK(fold_name("Alice") == "alice");
  CHECK(fold_name("ALICE") == fold_name("alice"));
  CHECK(fold_name("Z_0.9-a") == "z_0.9-a");
  CHECK(fold_name("bob") != fold_name("bob_"));
  // Folding does not change length, so a folded valid name stays valid.
  const std::string longest(32, 'Q');
  CHECK(fold_name(longest) == std::string(32, 'q'));
  CHECK(is_valid_name(fold_name(longest)));
}
