// fuzz_seeds OUT TRANSCRIPT...: the seed corpora, OUT/TARGET/, from what the
// clients of conformance transcripts send. The protocol targets get the
// frames (JSON ones for the JSON targets, the first of each client for the
// hello); the framer gets each transcript's whole stream; the store targets
// get those frames as the history they would become; the WebSocket reader
// gets them as masked text messages, and a few frames made by hand.

#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "conformance/transcript.hpp"
#include "history_input.hpp"
#include "store/detail/chunk.hpp"

namespace {

namespace fs = std::filesystem;

// Each target's seeds, without repeats.
std::map<std::string, std::set<std::string>, std::less<>> seeds;

void add(std::string_view target, std::string bytes) {
  seeds[std::string(target)].insert(std::move(bytes));
}

struct sent_frame {
  std::string client;
  std::string frame;
};

// The frames of `bytes` as the server's framer cuts them (no LF, one CR dropped).
std::vector<std::string> frames_of(std::string_view bytes) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (std::size_t lf; (lf = bytes.find('\n', pos)) != std::string_view::npos; pos = lf + 1) {
    std::string_view line = bytes.substr(pos, lf - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!line.empty()) out.emplace_back(line);
  }
  return out;
}

// A client's WebSocket frame: `first` (FIN, RSV, opcode), the length in its
// shortest form (or `declared`), a mask and the masked payload.
std::string websocket_frame(std::uint8_t first, std::string_view payload,
                            std::uint64_t declared = UINT64_MAX) {
  const std::uint64_t length = declared == UINT64_MAX ? payload.size() : declared;
  const char mask[4] = {'\x37', '\xFA', '\x21', '\x3D'};
  std::string frame(1, static_cast<char>(first));
  if (length < 126) {
    frame.push_back(static_cast<char>(0x80 | length));
  } else if (length <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    for (int shift = 8; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(length >> shift));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      frame.push_back(static_cast<char>(length >> shift));
  }
  frame.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) frame.push_back(payload[i] ^ mask[i % 4]);
  return frame;
}

// The frame_reader's input: max_message_bytes as (byte + 1) * 16, the byte
// that picks the read sizes, the stream.
void add_websocket(std::uint8_t max_byte, std::uint8_t pieces, std::string_view stream) {
  add("websocket_frames",
      std::string{static_cast<char>(max_byte), static_cast<char>(pieces)} + std::string(stream));
}

// Frames made by hand: one of each kind, and one of each way to break a rule.
void add_websocket_by_hand() {
  const std::string bye =
      "\x03\xE8"
      "bye";
  add_websocket(0xFF, 1,
                websocket_frame(0x89, "ping?") + websocket_frame(0x81, "{\"type\":\"say\"}") +
                    websocket_frame(0x8A, "") + websocket_frame(0x88, bye));
  add_websocket(0xFF, 2,
                websocket_frame(0x01, "{\"text\":\"caf\xC3") + websocket_frame(0x89, "") +
                    websocket_frame(0x00, "\xA9 \xE2\x82") + websocket_frame(0x8A, "x") +
                    websocket_frame(0x80, "\xAC\"}\n"));
  add_websocket(0xFF, 3, websocket_frame(0x81, std::string(300, 'a')));
  add_websocket(0xFF, 4, websocket_frame(0x81, "", 70000));
  add_websocket(0x01, 5, websocket_frame(0x81, std::string(40, 'b')));
  add_websocket(0xFF, 6, websocket_frame(0x82, "binary"));
  add_websocket(0xFF, 7, websocket_frame(0xC1, "compressed"));
  add_websocket(0xFF, 8, websocket_frame(0x88, ""));
  add_websocket(0xFF, 9, websocket_frame(0x88, "\x03"));
  add_websocket(0xFF, 10, websocket_frame(0x88, "\x03\xED"));
  add_websocket(0xFF, 11, websocket_frame(0x81, "ab\xC0\x80"));
  add_websocket(0xFF, 12, websocket_frame(0x01, "\xF0\x9F") + websocket_frame(0x80, ""));
  add_websocket(0xFF, 13, std::string("\x81\x05hello", 7));
}

void add_transcript(const chat::conformance::transcript& script) {
  std::string stream;
  std::vector<sent_frame> frames;
  std::set<std::string> greeted;
  for (const auto& step : script.steps) {
    const auto* send = std::get_if<chat::conformance::action::send>(&step.what);
    if (send == nullptr) continue;
    stream += send->bytes;
    add("utf8", send->bytes);
    for (std::string& frame : frames_of(send->bytes)) {
      if (greeted.insert(step.client).second) add("hello", frame);
      add(frame.starts_with('{') ? "json_request" : "plain_request", frame);
      if (frame.starts_with('{')) add("flat_json", frame);
      frames.push_back({step.client, std::move(frame)});
    }
  }
  // max_line 64 (the byte is max_line - 1), pieces from seed 7.
  add("line_framer", std::string("\x3f\x07") + stream);

  // The frames as WebSocket text messages: whole, and in two fragments with a
  // ping between them.
  std::string messages;
  std::string fragments;
  for (const sent_frame& sent : frames) {
    const std::string_view frame = sent.frame;
    messages += websocket_frame(0x81, frame);
    fragments += websocket_frame(0x01, frame.substr(0, frame.size() / 2)) +
                 websocket_frame(0x89, sent.client) +
                 websocket_frame(0x80, frame.substr(frame.size() / 2));
  }
  add_websocket(0xFF, 7, messages);
  add_websocket(0xFF, 3, fragments);

  // The frames as history: one chunk of them all, and the same messages as a
  // directory of three-message chunks in two rooms.
  std::string chunk;
  chat::fuzz::history_input history;
  std::map<std::uint8_t, std::string> open_chunks;
  std::map<std::uint8_t, chat::fuzz::index_row> open_rows;
  const auto close_chunk = [&](std::uint8_t room) {
    chat::fuzz::index_row row = open_rows[room];
    row.position = static_cast<std::int32_t>(history.chunks.size());
    row.size = static_cast<std::int32_t>(open_chunks[room].size());
    row.has_newest_ts = true;
    row.newest_ts = row.last_id;
    history.chunks += open_chunks[room];
    history.rows.push_back(row);
    open_chunks.erase(room);
    open_rows.erase(room);
  };
  std::uint64_t id = 0;
  for (const sent_frame& sent : frames) {
    ++id;
    const auto room = static_cast<std::uint8_t>(id % 2);
    const chat::store::stored_message_view message(id, static_cast<std::int64_t>(id), "",
                                                   sent.client, sent.frame);
    chat::store::detail::append_to_chunk(chunk, message);
    if (history.rows.size() == chat::fuzz::max_index_rows) continue;
    if (!open_rows.contains(room)) open_rows[room] = {.room = room, .first_id = std::int64_t(id)};
    open_rows[room].last_id = static_cast<std::int64_t>(id);
    chat::store::detail::append_to_chunk(open_chunks[room], message);
    if (open_rows[room].last_id - open_rows[room].first_id == 4) close_chunk(room);
  }
  while (!open_rows.empty() && history.rows.size() < chat::fuzz::max_index_rows) {
    close_chunk(open_rows.begin()->first);
  }
  add("chunk", chunk);
  history.highest_id = static_cast<std::int64_t>(id);
  history.flags = static_cast<std::uint8_t>(seeds["history_files"].size() % 8);
  history.max_bytes = static_cast<std::uint16_t>(history.chunks.size() / 2);
  add("history_files", chat::fuzz::write_history_input(history));
}

}  // namespace

// RESP replies (after the limits byte and four cut sizes) and redis://
// addresses: the shapes the client meets, a few of them just past a limit.
void add_redis_by_hand() {
  const std::string head = std::string("\x00\x03\x05\x01\x10", 5);
  const std::string limited = std::string("\x21\x03\x05\x01\x10", 5);
  for (const char* replies :
       {"+OK\r\n", "-ERR wrong\r\n", ":42\r\n", "$5\r\nhello\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n",
        "*3\r\n$7\r\nmessage\r\n$6\r\nroom:a\r\n$2\r\nhi\r\n",
        "*2\r\n$15\r\n1700000000000-0\r\n*2\r\n$4\r\ntext\r\n$3\r\none\r\n",
        "*2\r\n*1\r\n:1\r\n*1\r\n$-1\r\n"}) {
    add("resp", head + replies);
    add("resp", limited + replies);
  }
  add("resp", limited + "$200\r\n" + std::string(200, 'x') + "\r\n");
  add("resp", limited + "*100\r\n");
  for (const char* address : {"redis://localhost", "redis://127.0.0.1:6379", "redis://h:7000/3",
                              "redis://[::1]:6380/1", "redis://cache.example.com/15"}) {
    add("redis_address", address);
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: fuzz_seeds OUT TRANSCRIPT...\n";
    return 2;
  }
  try {
    add_websocket_by_hand();
    add_redis_by_hand();
    for (int i = 2; i < argc; ++i) add_transcript(chat::conformance::load_transcript(argv[i]));
    const fs::path out = argv[1];
    for (const auto& [target, corpus] : seeds) {
      fs::remove_all(out / target);
      fs::create_directories(out / target);
      std::size_t n = 0;
      for (const std::string& seed : corpus) {
        std::ofstream(out / target / ("seed-" + std::to_string(n++)), std::ios::binary) << seed;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
