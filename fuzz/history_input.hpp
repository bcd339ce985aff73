#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"

// The input of the history_files target: the two files a history directory
// holds, as a crash, a full disk or a careless hand may leave them. The chunk
// file is taken as it comes; the index is a valid SQLite database of the
// current schema whose rows are taken as they come (the bytes of SQLite's
// own file format are SQLite's to fuzz, and it does). Written here once, read
// by the target and written by the seeds.
namespace chat::fuzz {

// Rooms by a byte of the input: the target asks for the first two.
inline constexpr std::string_view history_rooms[] = {"lobby", "dev", "", "Lobby"};

struct index_row {
  std::uint8_t room = 0;  // into history_rooms, modulo its size
  std::int64_t first_id = 0;
  std::int64_t last_id = 0;
  // 32-bit and signed: small places are what chunk files have, and a
  // damaged index may hold negative ones.
  std::int32_t position = 0;
  std::int32_t size = 0;
  bool has_newest_ts = false;
  std::int64_t newest_ts = 0;
};

struct history_input {
  // Bits: 1 retention by bytes (max_bytes below), 2 retention by age (one
  // second), 4 append a message once open.
  std::uint8_t flags = 0;
  std::uint16_t max_bytes = 0;
  std::int64_t highest_id = 0;
  std::vector<index_row> rows;
  std::string chunks;
};

inline constexpr std::size_t max_index_rows = 16;

inline history_input read_history_input(std::string_view bytes) {
  input_reader in(bytes);
  history_input out;
  out.flags = in.byte();
  out.max_bytes = static_cast<std::uint16_t>(in.integer(2));
  out.highest_id = static_cast<std::int64_t>(in.integer(8));
  const std::size_t rows = in.byte() % (max_index_rows + 1);
  for (std::size_t i = 0; i < rows; ++i) {
    index_row row;
    row.room = in.byte();
    row.first_id = static_cast<std::int64_t>(in.integer(8));
    row.last_id = static_cast<std::int64_t>(in.integer(8));
    row.position = static_cast<std::int32_t>(static_cast<std::uint32_t>(in.integer(4)));
    row.size = static_cast<std::int32_t>(static_cast<std::uint32_t>(in.integer(4)));
    row.has_newest_ts = (in.byte() & 1) != 0;
    row.newest_ts = static_cast<std::int64_t>(in.integer(8));
    out.rows.push_back(row);
  }
  out.chunks = std::string(in.rest());
  return out;
}

inline std::string write_history_input(const history_input& input) {
  std::string out;
  out.push_back(static_cast<char>(input.flags));
  put_integer(out, input.max_bytes, 2);
  put_integer(out, static_cast<std::uint64_t>(input.highest_id), 8);
  out.push_back(static_cast<char>(input.rows.size()));
  for (const index_row& row : input.rows) {
    out.push_back(static_cast<char>(row.room));
    put_integer(out, static_cast<std::uint64_t>(row.first_id), 8);
    put_integer(out, static_cast<std::uint64_t>(row.last_id), 8);
    put_integer(out, static_cast<std::uint32_t>(row.position), 4);
    put_integer(out, static_cast<std::uint32_t>(row.size), 4);
    out.push_back(row.has_newest_ts ? 1 : 0);
    put_integer(out, static_cast<std::uint64_t>(row.newest_ts), 8);
  }
  return out + input.chunks;
}

}  // namespace chat::fuzz
