// Not a test: what group commit costs. Prints, for each sync mode and batch
// interval, the append throughput when the writer is the bottleneck and the
// commit latency (append to outcome) at a paced rate, with the batch sizes
// the writer made; and what one fdatasync of a batch-sized write costs on
// the disk under DIR. Usage: store_commit_bench [DIR]

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/history_database.hpp"

namespace {

using chat::store::commit_outcome;
using chat::store::history_database;
using chat::store::history_options;
using chat::store::sync_mode;
using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point start, clock_type::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

struct run_result {
  double seconds = 0;
  std::size_t batches = 0;
  std::vector<double> latencies_ms;
};

// Appends `count` messages at `rate` per second (0: as fast as possible).
run_result run(const std::filesystem::path& dir, sync_mode mode, std::chrono::milliseconds interval,
               std::size_t max_batch, std::uint64_t count, double rate,
               std::uint64_t max_bytes = 0) {
  std::filesystem::remove_all(dir);
  std::vector<clock_type::time_point> appended(count + 1);
  std::vector<double> latencies;
  latencies.reserve(count);
  std::mutex mutex;
  std::size_t batches = 0;
  std::uint64_t settled = 0;
  history_options options;
  options.sync = mode;
  options.batch_interval = interval;
  options.max_batch = max_batch;
  options.max_bytes = max_bytes;
  options.max_backlog_bytes = std::size_t{1} << 30;
  const std::string text(100, 'x');
  clock_type::time_point start;
  {
    history_database db(
        dir,
        [](std::string_view line) {
          std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
        },
        options,
        [&](const commit_outcome& o) {
          const auto now = clock_type::now();
          std::lock_guard lock(mutex);
          ++batches;
          for (std::uint64_t id = settled + 1; id <= o.through_id; ++id) {
            latencies.push_back(ms_since(appended[id], now));
          }
          settled = o.through_id;
        });
    start = clock_type::now();
    for (std::uint64_t id = 1; id <= count; ++id) {
      if (rate > 0) {
        const auto due = start + std::chrono::duration_cast<clock_type::duration>(
                                     std::chrono::duration<double>((id - 1) / rate));
        while (clock_type::now() < due) {
        }
      }
      {
        std::lock_guard lock(mutex);
        appended[id] = clock_type::now();
      }
      db.append({id, 1'700'000'000'000, id % 4 ? "lobby" : "dev", "bench", text});
    }
    db.flush();
  }
  run_result result;
  result.seconds = ms_since(start, clock_type::now()) / 1000;
  result.batches = batches;
  result.latencies_ms = std::move(latencies);
  return result;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()))];
}

void fdatasync_cost(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto file = dir / "fdatasync.probe";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  for (const std::size_t size : {std::size_t{200}, std::size_t{130'000}}) {
    const std::string bytes(size, 'x');
    std::vector<double> costs;
    off_t at = 0;
    for (int i = 0; i < 200; ++i) {
      if (::pwrite(fd, bytes.data(), bytes.size(), at) != static_cast<ssize_t>(bytes.size())) break;
      at += static_cast<off_t>(bytes.size());
      const auto start = clock_type::now();
      ::fdatasync(fd);
      costs.push_back(ms_since(start, clock_type::now()));
    }
    std::printf("fdatasync after appending %zu bytes: p50 %.2f ms, p99 %.2f ms (200 runs)\n", size,
                percentile(costs, 0.5), percentile(costs, 0.99));
  }
  ::close(fd);
  std::filesystem::remove(file);
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path base =
      argc > 1 ? std::filesystem::path(argv[1])
               : std::filesystem::temp_directory_path() / "store-commit-bench";
  fdatasync_cost(base);
  for (const sync_mode mode : {sync_mode::none, sync_mode::batch}) {
    const char* name = mode == sync_mode::none ? "none " : "batch";
    for (const std::size_t max_batch : {std::size_t{1'000}, std::size_t{10'000}}) {
      constexpr std::uint64_t count = 300'000;
      const auto flat = run(base / "db", mode, std::chrono::milliseconds(2), max_batch, count, 0);
      std::printf(
          "sync %s max_batch %5zu, flat out: %8.0f msg/s, %5zu batches, %6.1f msg/batch, "
          "latency p50 %7.2f ms p99 %7.2f ms\n",
          name, max_batch, static_cast<double>(count) / flat.seconds, flat.batches,
          static_cast<double>(count) / static_cast<double>(flat.batches),
          percentile(flat.latencies_ms, 0.5), percentile(flat.latencies_ms, 0.99));
    }
    for (const auto interval : {0, 2, 5}) {
      for (const double rate : {100.0, 1'000.0, 20'000.0}) {
        const auto count = static_cast<std::uint64_t>(rate * 2);
        const auto paced =
            run(base / "db", mode, std::chrono::milliseconds(interval), 10'000, count, rate);
        std::printf(
            "sync %s interval %d ms, %6.0f msg/s: %5zu batches, %6.1f msg/batch, latency p50 "
            "%6.2f ms p99 %6.2f ms max %6.2f ms\n",
            name, interval, rate, paced.batches,
            static_cast<double>(count) / static_cast<double>(paced.batches),
            percentile(paced.latencies_ms, 0.5), percentile(paced.latencies_ms, 0.99),
            percentile(paced.latencies_ms, 1.0));
      }
    }
  }
  // Retention by bytes under a flat-out load: what dropping and freeing the
  // front costs the writer.
  for (const sync_mode mode : {sync_mode::none, sync_mode::batch}) {
    for (const std::uint64_t max_bytes : {std::uint64_t{0}, std::uint64_t{32} << 20}) {
      constexpr std::uint64_t count = 1'000'000;
      const auto flat =
          run(base / "db", mode, std::chrono::milliseconds(2), 10'000, count, 0, max_bytes);
      struct stat status {};
      ::stat((base / "db" / "history.chunks").c_str(), &status);
      std::printf(
          "sync %s max_bytes %3llu MiB, flat out %llu messages: %8.0f msg/s, chunk file %llu MiB "
          "apparent, %llu MiB allocated\n",
          mode == sync_mode::none ? "none " : "batch",
          static_cast<unsigned long long>(max_bytes >> 20), static_cast<unsigned long long>(count),
          static_cast<double>(count) / flat.seconds,
          static_cast<unsigned long long>(status.st_size >> 20),
          static_cast<unsigned long long>((status.st_blocks * 512) >> 20));
    }
  }
  std::filesystem::remove_all(base);
}
