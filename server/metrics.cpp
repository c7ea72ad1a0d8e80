// The metrics and their scrape (see metrics.hpp).
#include "server/metrics.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <boost/version.hpp>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "storage/queue_store.hpp"

namespace flareq {
namespace {

// Request durations, in seconds: 100 µs to 10 s.
constexpr double request_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
// Writer groups: jobs in one transaction (64 at most), and its duration.
constexpr double group_bounds[] = {1, 2, 4, 8, 16, 32, 64};
constexpr double commit_bounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                    0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1};

// The message counters, in the order of metrics_registry::message_counts,
// each with the change kind it counts.
struct message_family {
  storage::event_type counts;
  const char* name;
  const char* help;
};
constexpr message_family message_families[] = {
    {storage::event_type::pushed, "flareq_messages_pushed_total",
     "Messages pushed to the queue (one per message of a batch)."},
    {storage::event_type::leased, "flareq_messages_delivered_total",
     "Deliveries: messages leased by a pull."},
    {storage::event_type::acked, "flareq_messages_acked_total",
     "Messages acknowledged (and so deleted)."},
    {storage::event_type::retried, "flareq_messages_retried_total",
     "Messages a consumer asked to retry."},
    {storage::event_type::dead_lettered, "flareq_messages_dead_lettered_total",
     "Messages moved to the dead-letter queue after their last retry."},
    {storage::event_type::discarded, "flareq_messages_discarded_total",
     "Messages deleted after their last retry, the consumer having no dead-letter queue."},
    {storage::event_type::expired, "flareq_messages_expired_total",
     "Messages removed by the queue's retention period."},
    {storage::event_type::purged, "flareq_messages_purged_total", "Messages removed by a purge."},
};

// The counter a change kind adds to (-1: none).
static_assert(std::size(message_families) == metrics_registry::message_kinds);
int message_kind(storage::event_type type) {
  for (std::size_t k = 0; k < std::size(message_families); ++k) {
    if (message_families[k].counts == type) return static_cast<int>(k);
  }
  return -1;
}

// A label value as the exposition format writes it.
std::string escaped(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", value);
  return text;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels,
            std::string_view value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(value).append("\n");
}

std::string queue_labels(std::string_view account, std::string_view queue) {
  return "account=\"" + escaped(account) + "\",queue=\"" + escaped(queue) + "\"";
}

}  // namespace

histogram::histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<std::uint64_t>(std::llround(value * 1e6)),
                       std::memory_order_relaxed);
}

std::uint64_t histogram::count() const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
  }
  return total;
}

void histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  std::string bucket = std::string(name) + "_bucket";
  std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    sample(out, bucket, prefix + "le=\"" + le + "\"", std::to_string(total));
  }
  char sum[40];
  std::snprintf(sum, sizeof sum, "%.6f",
                static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6);
  sample(out, std::string(name) + "_sum", labels, sum);
  sample(out, std::string(name) + "_count", labels, std::to_string(total));
}

metrics_registry::metrics_registry(const std::vector<std::string>& route_labels)
    : group_jobs_(group_bounds), commit_seconds_(commit_bounds) {
  for (const std::string& label : route_labels) {
    auto at = std::find(labels_.begin(), labels_.end(), label);
    label_of_.push_back(static_cast<std::size_t>(at - labels_.begin()));
    if (at == labels_.end()) labels_.push_back(label);
  }
  labels_.emplace_back("none");
  requests_ = std::make_unique<std::atomic<std::uint64_t>[]>(labels_.size() * statuses);
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    durations_.push_back(std::make_unique<histogram>(request_bounds));
  }
}

void metrics_registry::count_request(std::optional<std::size_t> route, unsigned status,
                                     std::chrono::nanoseconds took) {
  std::size_t label = route && *route < label_of_.size() ? label_of_[*route] : labels_.size() - 1;
  if (status >= statuses) status = 0;
  requests_[label * statuses + status].fetch_add(1, std::memory_order_relaxed);
  durations_[label]->observe(std::chrono::duration<double>(took).count());
}

void metrics_registry::count_group(std::size_t jobs, std::chrono::nanoseconds took) {
  group_jobs_.observe(static_cast<double>(jobs));
  commit_seconds_.observe(std::chrono::duration<double>(took).count());
}

void metrics_registry::count_changes(const std::vector<storage::change_count>& changes) {
  if (changes.empty()) return;
  std::lock_guard lock(changes_mutex_);
  for (const storage::change_count& c : changes) {
    if (c.type == storage::event_type::reset || c.type == storage::event_type::snapshot_restored) {
      messages_.clear();  // the queues are others now
      continue;
    }
    if (c.type == storage::event_type::queue_deleted) {
      messages_.erase({c.account_id, c.queue_id});
      continue;
    }
    int kind = message_kind(c.type);
    if (kind < 0) continue;
    messages_[{c.account_id, c.queue_id}][static_cast<std::size_t>(kind)] +=
        static_cast<std::uint64_t>(c.messages);
  }
}

std::string metrics_registry::render(const scrape_state& state) const {
  std::string out;
  out.reserve(16 * 1024);

  if (state.backlogs != nullptr) {
    struct gauge {
      const char* name;
      const char* help;
      bool bytes;
    };
    for (const gauge& g :
         {gauge{"flareq_backlog_messages", "Messages in the queue's backlog, by state.", false},
          gauge{"flareq_backlog_bytes", "Bytes of message bodies in the queue's backlog, by state.",
                true}}) {
      family(out, g.name, "gauge", g.help);
      for (const storage::queue_backlog& b : *state.backlogs) {
        std::string labels = queue_labels(b.account_id, b.queue_id);
        sample(out, g.name, labels + ",state=\"ready\"",
               std::to_string(g.bytes ? b.ready_bytes : b.ready_count));
        sample(out, g.name, labels + ",state=\"delayed\"",
               std::to_string(g.bytes ? b.delayed_bytes : b.delayed_count));
        sample(out, g.name, labels + ",state=\"leased\"",
               std::to_string(g.bytes ? b.leased_bytes : b.leased_count));
      }
    }
    family(out, "flareq_oldest_message_age_seconds", "gauge",
           "Age of the queue's oldest message (0 when the backlog is empty).");
    for (const storage::queue_backlog& b : *state.backlogs) {
      double age = !b.oldest_timestamp_ms ? 0.0
                                          : static_cast<double>(std::max<std::int64_t>(
                                                0, state.now_ms - *b.oldest_timestamp_ms)) /
                                                1000.0;
      sample(out, "flareq_oldest_message_age_seconds", queue_labels(b.account_id, b.queue_id),
             number(age));
    }
  }

  // Every queue there is has its series, at 0 until its first change (a
  // scrape without storage: those counted so far). A copy, so that the
  // writer's commits do not wait for the formatting.
  std::map<std::pair<std::string, std::string>, message_counts> counted;
  {
    std::lock_guard lock(changes_mutex_);
    counted = messages_;
  }
  if (state.backlogs != nullptr) {
    std::map<std::pair<std::string, std::string>, message_counts> live;
    for (const storage::queue_backlog& b : *state.backlogs) {
      auto key = std::make_pair(b.account_id, b.queue_id);
      auto found = counted.find(key);
      live[key] = found != counted.end() ? found->second : message_counts{};
    }
    counted = std::move(live);
  }
  for (std::size_t k = 0; k < message_kinds; ++k) {
    family(out, message_families[k].name, "counter", message_families[k].help);
    for (const auto& [key, counts] : counted) {
      sample(out, message_families[k].name, queue_labels(key.first, key.second),
             std::to_string(counts[k]));
    }
  }

  family(out, "flareq_http_requests_total", "counter",
         "HTTP requests answered, by route name and status code.");
  for (std::size_t r = 0; r < labels_.size(); ++r) {
    for (unsigned s = 0; s < statuses; ++s) {
      std::uint64_t n = requests_[r * statuses + s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      sample(out, "flareq_http_requests_total",
             "route=\"" + escaped(labels_[r]) + "\",status=\"" + std::to_string(s) + "\"",
             std::to_string(n));
    }
  }
  family(out, "flareq_http_request_duration_seconds", "histogram",
         "Time from a request read in full to its answer ready to send, by route name.");
  for (std::size_t r = 0; r < labels_.size(); ++r) {
    if (durations_[r]->count() == 0) continue;  // a route not used yet
    durations_[r]->render(out, "flareq_http_request_duration_seconds",
                          "route=\"" + escaped(labels_[r]) + "\"");
  }
  family(out, "flareq_http_open_connections", "gauge", "Client connections open now.");
  sample(out, "flareq_http_open_connections", "",
         std::to_string(open_connections ? open_connections() : 0));

  family(
      out, "flareq_writer_group_jobs", "histogram",
      "Requests and other jobs (the sweeps every 100 ms too) the writer ran in one transaction.");
  group_jobs_.render(out, "flareq_writer_group_jobs", "");
  family(out, "flareq_writer_commit_duration_seconds", "histogram",
         "Time of one group's transaction, from BEGIN to the end of COMMIT.");
  commit_seconds_.render(out, "flareq_writer_commit_duration_seconds", "");

  if (state.footprint != nullptr) {
    family(out, "flareq_database_file_bytes", "gauge",
           "Size of the database's files: the database itself and its write-ahead log.");
    sample(out, "flareq_database_file_bytes", "file=\"database\"",
           std::to_string(state.footprint->file_bytes));
    sample(out, "flareq_database_file_bytes", "file=\"wal\"",
           std::to_string(state.footprint->wal_bytes));
  }

  family(out, "flareq_storage_up", "gauge",
         "1 while storage answers; 0 when it failed for this scrape (the log says why), which "
         "then lacks the backlog and file sizes.");
  sample(out, "flareq_storage_up", "", state.storage_up ? "1" : "0");

  family(out, "flareq_build_info", "gauge",
         "Always 1; the labels tell the version of flareq and of its libraries.");
  std::string boost = std::to_string(BOOST_VERSION / 100000) + "." +
                      std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                      std::to_string(BOOST_VERSION % 100);
  sample(out, "flareq_build_info",
         "version=\"" FLAREQ_VERSION "\",sqlite=\"" + escaped(sqlite3_libversion()) +
             "\",boost=\"" + boost + "\"",
         "1");
  return out;
}

}  // namespace flareq
