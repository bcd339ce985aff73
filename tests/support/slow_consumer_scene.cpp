#include "slow_consumer_scene.hpp"

#include <chrono>
#include <stdexcept>

namespace chat::test {

std::string chatter_name(int index) { return "chatter" + std::to_string(index); }

stalled_room join_stalled_room(std::uint16_t port, int chatter_count) {
  std::vector<line_client> chatters;
  for (int i = 0; i < chatter_count; ++i) chatters.push_back(join_json(port, chatter_name(i)));
  for (int i = 0; i < chatter_count; ++i) {
    for (int later = i + 1; later < chatter_count; ++later) {
      expect_join(chatters[static_cast<std::size_t>(i)], chatter_name(later));
    }
  }
  line_client stalled = join_json(port, "stalled", {.receive_buffer = 4096});
  for (line_client& chatter : chatters) expect_join(chatter, "stalled");
  return {std::move(chatters), std::move(stalled)};
}

slow_consumer_drop read_slow_consumer_drop(line_client& stalled) {
  std::vector<std::string> lines = stalled.read_until_eof(std::chrono::seconds(10));
  if (lines.empty()) throw std::runtime_error("the stalled client read nothing before EOF");
  json last = json::parse(lines.back(), nullptr, /*allow_exceptions=*/false);
  if (!last.is_object() || last.value("type", "") != "error" ||
      last.value("code", "") != "slow-consumer") {
    throw std::runtime_error("expected a slow-consumer error last, got: " +
                             lines.back().substr(0, 200));
  }
  lines.pop_back();
  return {std::move(lines), std::move(last)};
}

}  // namespace chat::test
