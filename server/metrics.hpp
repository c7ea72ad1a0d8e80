// Prometheus metrics: what is counted while flareq runs, and the scrape
// (GET /metrics) rendered from those counts and from what storage holds now,
// in the text exposition format 0.0.4.
//
// Threads: the I/O threads count requests (lock-free: relaxed atomics in
// arrays fixed at start-up); the writer thread counts groups and, after each
// commit, the message changes it committed (under changes_mutex_); any I/O
// thread renders a scrape. Made once per run, before the app and the writer,
// and destroyed after both.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flareq {

namespace storage {
struct change_count;
struct queue_backlog;
struct storage_footprint;
}  // namespace storage

// A histogram with fixed upper bounds, safe to observe from any thread.
class histogram {
 public:
  // Upper bounds in the unit observe() takes, ascending.
  explicit histogram(std::span<const double> bounds);
  void observe(double value);
  // Appends the _bucket, _sum and _count lines of one series; labels is
  // "" or `name="value",...` (no braces).
  void render(std::string& out, std::string_view name, std::string_view labels) const;
  std::uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // one per bound, then +Inf
  std::atomic<std::uint64_t> sum_micro_{0};               // sum in millionths of the unit
};

// What storage holds at the time of a scrape (read by the handler).
struct scrape_state {
  std::int64_t now_ms = 0;  // the run's clock, for the oldest message's age
  const std::vector<storage::queue_backlog>* backlogs = nullptr;
  const storage::storage_footprint* footprint = nullptr;
  bool storage_up = true;  // false: storage failed this scrape (backlogs, footprint null)
};

class metrics_registry {
 public:
  // route_labels: the route label of each route index (several routes may
  // share one); one more label, "none", counts requests that matched no route.
  explicit metrics_registry(const std::vector<std::string>& route_labels);
  // Message counters per queue: pushed, delivered, acked, retried,
  // dead-lettered, discarded, expired, purged.
  static constexpr std::size_t message_kinds = 8;
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  // One request answered (any I/O thread); route: its index, or nullopt
  // when it matched none.
  void count_request(std::optional<std::size_t> route, unsigned status,
                     std::chrono::nanoseconds took);
  // One writer group (the writer thread).
  void count_group(std::size_t jobs, std::chrono::nanoseconds took);
  // Committed changes (the writer thread).
  void count_changes(const std::vector<storage::change_count>& changes);

  // Open connections, asked at each scrape (set once before serving).
  std::function<std::size_t()> open_connections;

  // The whole scrape.
  std::string render(const scrape_state& state) const;

 private:
  static constexpr unsigned statuses = 600;                 // status codes 0..599
  std::vector<std::string> labels_;                         // distinct route labels, "none" last
  std::vector<std::size_t> label_of_;                       // route index -> index in labels_
  std::unique_ptr<std::atomic<std::uint64_t>[]> requests_;  // [label * statuses + status]
  std::vector<std::unique_ptr<histogram>> durations_;       // per label, in seconds
  histogram group_jobs_;
  histogram commit_seconds_;

  // Per (account, queue), in the order message_kinds names.
  using message_counts = std::array<std::uint64_t, message_kinds>;
  mutable std::mutex changes_mutex_;
  std::map<std::pair<std::string, std::string>, message_counts> messages_;  // guarded
};

}  // namespace flareq
