// The metrics registry: route labels, histograms, message counters, and
// the scrape's text.
#include "server/metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/queue_store.hpp"

namespace flareq {
namespace {

using namespace std::chrono_literals;
using storage::change_count;
using storage::event_type;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(metrics, routes_sharing_a_label_share_one_series_and_unmatched_ones_are_none) {
  metrics_registry m({"queues", "queues", "push"});
  m.count_request(0, 200, 1ms);
  m.count_request(1, 200, 3ms);
  m.count_request(2, 400, 30ms);
  m.count_request(std::nullopt, 404, 1ms);
  m.count_request(7, 999, 1ms);  // no such route, no such status: still counted
  std::string text = m.render({});
  EXPECT_TRUE(has_line(text, R"(flareq_http_requests_total{route="queues",status="200"} 2)"));
  EXPECT_TRUE(has_line(text, R"(flareq_http_requests_total{route="push",status="400"} 1)"));
  EXPECT_TRUE(has_line(text, R"(flareq_http_requests_total{route="none",status="404"} 1)"));
  EXPECT_TRUE(has_line(text, R"(flareq_http_requests_total{route="none",status="0"} 1)"));
  // Cumulative buckets: 1 ms and 3 ms.
  EXPECT_TRUE(has_line(
      text, R"(flareq_http_request_duration_seconds_bucket{route="queues",le="0.001"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(flareq_http_request_duration_seconds_bucket{route="queues",le="0.005"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(flareq_http_request_duration_seconds_bucket{route="queues",le="+Inf"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(flareq_http_request_duration_seconds_sum{route="queues"} 0.004000)"));
  EXPECT_TRUE(has_line(text, R"(flareq_http_request_duration_seconds_count{route="queues"} 2)"));
}

TEST(metrics, message_counters_follow_committed_changes_and_leave_with_their_queue) {
  metrics_registry m({});
  m.count_changes({{event_type::pushed, "a", "q", 1},
                   {event_type::pushed, "a", "q", 1},
                   {event_type::leased, "a", "q", 1},
                   {event_type::purged, "a", "q", 7},
                   {event_type::pushed, "a", "other", 1},
                   {event_type::queue_created, "a", "q", 1}});
  std::string text = m.render({});
  EXPECT_TRUE(has_line(text, R"(flareq_messages_pushed_total{account="a",queue="q"} 2)"));
  EXPECT_TRUE(has_line(text, R"(flareq_messages_delivered_total{account="a",queue="q"} 1)"));
  EXPECT_TRUE(has_line(text, R"(flareq_messages_purged_total{account="a",queue="q"} 7)"));
  EXPECT_TRUE(has_line(text, R"(flareq_messages_acked_total{account="a",queue="q"} 0)"));
  m.count_changes({{event_type::queue_deleted, "a", "q", 2}});
  text = m.render({});
  EXPECT_EQ(text.find(R"(queue="q")"), std::string::npos);
  EXPECT_TRUE(has_line(text, R"(flareq_messages_pushed_total{account="a",queue="other"} 1)"));
  m.count_changes({{event_type::reset, "", "", 1}});
  EXPECT_EQ(m.render({}).find(R"(queue="other")"), std::string::npos);
  m.count_changes({{event_type::pushed, "a", "gone", 1}, {event_type::acked, "a", "kept", 1}});
  m.count_changes({{event_type::snapshot_restored, "", "", 1}});
  EXPECT_EQ(m.render({}).find(R"(queue="gone")"), std::string::npos) << "a restore drops them";
  // With storage: every live queue has its series (0 until counted), and
  // only those.
  m.count_changes({{event_type::pushed, "a", "gone", 1}, {event_type::acked, "a", "kept", 1}});
  std::vector<storage::queue_backlog> live = {{"a", "kept"}, {"a", "new"}};
  text = m.render({0, &live, nullptr});
  EXPECT_TRUE(has_line(text, R"(flareq_messages_acked_total{account="a",queue="kept"} 1)"));
  EXPECT_TRUE(has_line(text, R"(flareq_messages_pushed_total{account="a",queue="new"} 0)"));
  EXPECT_EQ(text.find(R"(queue="gone")"), std::string::npos);
}

TEST(metrics, the_scrape_shows_backlogs_ages_groups_and_the_files) {
  metrics_registry m({});
  std::vector<storage::queue_backlog> backlogs = {
      {"a", "q", 1, 10, 2, 20, 3, 30, 1'000'000},
      {"a", "empty", 0, 0, 0, 0, 0, 0, std::nullopt},
      {"a", "epoch", 1, 1, 0, 0, 0, 0, 0},  // pushed at 0 on a manual clock
  };
  storage::storage_footprint files{4096, 8192};
  m.count_group(3, 2ms);
  m.open_connections = [] { return std::size_t{5}; };
  std::string text = m.render({1'002'500, &backlogs, &files});
  EXPECT_TRUE(has_line(text, R"(flareq_backlog_messages{account="a",queue="q",state="leased"} 3)"));
  EXPECT_TRUE(has_line(text, R"(flareq_backlog_bytes{account="a",queue="q",state="delayed"} 20)"));
  EXPECT_TRUE(has_line(text, R"(flareq_oldest_message_age_seconds{account="a",queue="q"} 2.5)"));
  EXPECT_TRUE(has_line(text, R"(flareq_oldest_message_age_seconds{account="a",queue="empty"} 0)"));
  EXPECT_TRUE(
      has_line(text, R"(flareq_oldest_message_age_seconds{account="a",queue="epoch"} 1002.5)"));
  EXPECT_TRUE(has_line(text, R"(flareq_writer_group_jobs_bucket{le="2"} 0)"));
  EXPECT_TRUE(has_line(text, R"(flareq_writer_group_jobs_bucket{le="4"} 1)"));
  EXPECT_TRUE(has_line(text, R"(flareq_writer_commit_duration_seconds_count 1)"));
  EXPECT_TRUE(has_line(text, "flareq_http_open_connections 5"));
  EXPECT_TRUE(has_line(text, R"(flareq_database_file_bytes{file="wal"} 8192)"));
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace flareq
