#include "chat_session.hpp"

#include <chrono>
#include <stdexcept>

namespace chat::test {

json read_json(line_client& client, std::chrono::milliseconds timeout) {
  const std::string line = client.read_line(timeout);
  json frame = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (frame.is_discarded() || !frame.is_object()) {
    throw std::runtime_error("expected a JSON object, got: " + line);
  }
  return frame;
}

void expect_prompt(line_client& client) {
  const std::string line = client.read_line();
  if (line != "USER") throw std::runtime_error("expected the USER prompt, got: " + line);
}

line_client join_plain(std::uint16_t port, std::string_view name, line_client_options options) {
  line_client client(port, options);
  expect_prompt(client);
  client.send_line(name);
  const std::string welcome = client.read_line();
  if (!welcome.starts_with("* welcome " + std::string(name) + ",")) {
    throw std::runtime_error("expected the plain welcome for " + std::string(name) +
                             ", got: " + welcome);
  }
  return client;
}

line_client join_json(std::uint16_t port, std::string_view name, line_client_options options) {
  line_client client(port, options);
  expect_prompt(client);
  client.send_line(json{{"type", "hello"}, {"user", name}}.dump());
  const json welcome = read_json(client);
  if (welcome.value("type", "") != "welcome" || welcome.value("user", "") != name) {
    throw std::runtime_error("expected the JSON welcome for " + std::string(name) +
                             ", got: " + welcome.dump());
  }
  return client;
}

mixed_cast join_mixed_cast(std::uint16_t port) {
  mixed_cast cast{join_json(port, "alice"), join_plain(port, "bob"), join_json(port, "carol"),
                  join_plain(port, "dave")};
  lines_before_pong(cast.alice);
  lines_before_help(cast.bob);
  lines_before_pong(cast.carol);
  return cast;
}

std::uint64_t expect_stamped(const json& frame) {
  const auto id = frame.find("id");
  const auto ts = frame.find("ts");
  if (id == frame.end() || !id->is_number_unsigned() || ts == frame.end() ||
      !ts->is_number_integer()) {
    throw std::runtime_error("expected an unsigned id and an integer ts in " + frame.dump());
  }
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auto stamped = ts->get<std::int64_t>();
  if (stamped > now_ms || stamped <= now_ms - 60'000) {
    throw std::runtime_error("expected a ts within the last minute in " + frame.dump());
  }
  return id->get<std::uint64_t>();
}

std::vector<std::uint64_t> say_numbered(line_client& json_sender, int count,
                                        const std::string& prefix) {
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < count; ++i) {
    json_sender.send_line(
        json{{"type", "msg"}, {"text", prefix + std::to_string(i)}, {"ref", i}}.dump());
    const json ack = read_json(json_sender);
    const auto id = ack.find("id");
    if (ack.value("type", "") != "ack" || ack.value("ref", -1) != i || id == ack.end() ||
        !id->is_number_unsigned()) {
      throw std::runtime_error("expected the ack of message " + std::to_string(i) +
                               ", got: " + ack.dump());
    }
    ids.push_back(id->get<std::uint64_t>());
  }
  return ids;
}

void expect_join(line_client& member, std::string_view name) {
  const std::string line = member.read_line();
  const json frame = json::parse(line, nullptr, /*allow_exceptions=*/false);
  const bool announced = line == "* " + std::string(name) + " joined lobby" ||
                         frame == json{{"type", "join"}, {"room", "lobby"}, {"user", name}};
  if (!announced)
    throw std::runtime_error("expected " + std::string(name) + " to join, got: " + line);
}

std::string frames(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (const std::string_view line : lines) out.append(line).push_back('\n');
  return out;
}

std::vector<std::string> lines_before_pong(line_client& json_client) {
  json_client.send_line(R"({"type":"ping"})");
  std::vector<std::string> before;
  for (;;) {
    std::string line = json_client.read_line();
    if (line == R"({"type":"pong"})") return before;
    before.push_back(std::move(line));
  }
}

std::vector<std::string> lines_before_help(line_client& plain_client) {
  plain_client.send_line("/help");
  std::vector<std::string> before;
  for (;;) {
    std::string line = plain_client.read_line();
    if (line.starts_with("* commands:")) return before;
    before.push_back(std::move(line));
  }
}

std::vector<json> frames_before_pong(line_client& json_client) {
  std::vector<json> frames;
  for (const std::string& line : lines_before_pong(json_client)) {
    json frame = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (frame.is_discarded() || !frame.is_object()) {
      throw std::runtime_error("expected a JSON object, got: " + line);
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

std::string error_code_of(std::string_view line) {
  constexpr std::string_view plain_prefix = "! error ";
  if (line.starts_with(plain_prefix)) {
    line.remove_prefix(plain_prefix.size());
    return std::string(line.substr(0, line.find(':')));
  }
  const json frame = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (frame.is_object() && frame.value("type", "") == "error" && frame.contains("code") &&
      frame["code"].is_string()) {
    return frame["code"].get<std::string>();
  }
  return {};
}

}  // namespace chat::test
