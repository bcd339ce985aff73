#include <catch2/catch.hpp>

#include <string>

#include "bench/payload.hpp"
#include "protocol/event.hpp"

namespace {

using namespace chat::bench;

std::string payload(const run_id& run, stamp fields, std::size_t size = 64) {
  std::string text(size, '?');
  write_payload(text.data(), size, run, fields);
  return text;
}

}  // namespace

TEST_CASE("a payload is read back with its fields", "[payload]") {
  const run_id run = run_id::from_number(0x1a2b3c4d);
  CHECK(run.view() == "1a2b3c4d");
  for (const std::size_t size : {std::size_t{64}, std::size_t{65}, std::size_t{1000}}) {
    // The largest fields read back: 19 digits (no chat-bench run comes near).
    const stamp fields{4294967295u, 9999999999999999999ull, 1234567890123ull};
    const std::string text = payload(run, fields, size);
    REQUIRE(text.size() == size);
    CHECK(text.starts_with("~1a2b3c4d:4294967295:9999999999999999999:1234567890123:"));
    CHECK(text.find('?') == std::string::npos);
    const parsed_payload back = parse_payload(text, run, size);
    REQUIRE(back.kind == payload_kind::ours);
    CHECK(back.fields.slot == fields.slot);
    CHECK(back.fields.seq == fields.seq);
    CHECK(back.fields.sent_ns == fields.sent_ns);
  }
}

TEST_CASE("payloads of other runs and other text are told apart", "[payload]") {
  const run_id run = run_id::from_number(1);
  const std::string text = payload(run, {0, 7, 0});
  CHECK(parse_payload(text, run_id::from_number(2), 64).kind == payload_kind::other_run);
  CHECK(parse_payload("hello there", run, 64).kind == payload_kind::foreign);
  CHECK(parse_payload("", run, 64).kind == payload_kind::foreign);
  CHECK(parse_payload("~00000001", run, 64).kind == payload_kind::foreign);
}

TEST_CASE("a damaged payload of this run is malformed", "[payload]") {
  const run_id run = run_id::from_number(1);
  const std::string text = payload(run, {3, 7, 0});
  CHECK(parse_payload(text.substr(0, 63), run, 64).kind == payload_kind::malformed);  // cut
  CHECK(parse_payload(text + ".", run, 64).kind == payload_kind::malformed);          // longer
  std::string bad_digit = text;
  bad_digit[11] = 'x';  // the slot
  CHECK(parse_payload(bad_digit, run, 64).kind == payload_kind::malformed);
  std::string last = text;
  last.back() = 'x';
  CHECK(parse_payload(last, run, 64).kind == payload_kind::malformed);
  // A slot past 32 bits.
  const std::string wide = "~00000001:4294967296:1:0:" + std::string(39, '.');
  CHECK(parse_payload(wide, run, 64).kind == payload_kind::malformed);
  // 20 digits: more than a 64-bit number is read.
  const std::string huge = "~00000001:1:99999999999999999999:0:" + std::string(29, '.');
  CHECK(parse_payload(huge, run, 64).kind == payload_kind::malformed);
  const std::string empty_field = "~00000001:1::0:" + std::string(49, '.');
  CHECK(parse_payload(empty_field, run, 64).kind == payload_kind::malformed);
}

TEST_CASE("message requests are what the protocol's encoder writes", "[payload]") {
  const run_id run = run_id::from_number(0xdeadbeef);
  const stamp fields{2, 99, 12345};
  const std::string text = payload(run, fields, 80);

  std::string json;
  append_message_request(json, true, 80, run, fields);
  CHECK(json == chat::protocol::encode_message_request(text));
  CHECK(json.size() == message_request_size(true, 80));

  std::string plain = "x";  // appends, never overwrites
  append_message_request(plain, false, 80, run, fields);
  CHECK(plain == "x" + text + "\n");
  CHECK(plain.size() == 1 + message_request_size(false, 80));
}

TEST_CASE("a message request with a ref carries its sequence number", "[payload]") {
  const run_id run = run_id::from_number(0xdeadbeef);
  const stamp fields{2, 4294967295u, 12345};
  const std::string text = payload(run, fields, 64);

  std::string json = "x";
  append_message_request(json, true, 64, run, fields, true);
  CHECK(json == "x" + chat::protocol::encode_message_request(text, "4294967295"));

  // Plain sessions have no acks: the line is the same with or without.
  std::string plain;
  append_message_request(plain, false, 64, run, fields, true);
  CHECK(plain == text + "\n");
}
