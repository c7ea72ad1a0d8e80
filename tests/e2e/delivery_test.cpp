// Pull, leases, ack, retry, dead-letter queues, delays, pause, retention,
// peek and purge, on the real server with a fake clock: nothing sleeps.
#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/database.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_server.hpp"

namespace flareq::test {
namespace {

namespace json = boost::json;

const std::string base = "/client/v4/accounts/acc/queues";

// Lenient by default: most of these pull without an http_pull consumer.
class delivery : public ::testing::Test {
 protected:
  explicit delivery(const std::function<void(config&)>& adjust =
                        [](config& c) { c.lenient = true; })
      : server(adjust), client(server.port()) {}

  json::value ok(std::string_view method, const std::string& target, std::string_view body = "{}") {
    auto r = client.request(method, target, body);
    EXPECT_EQ(r.status, 200u) << method << " " << target << " " << body << " -> " << r.body;
    return r.json().at("result");
  }
  // Creates a queue and returns its id.
  std::string create(const std::string& name, const std::string& settings = "{}") {
    return std::string(
        ok("POST", base, R"({"queue_name":")" + name + R"(","settings":)" + settings + "}")
            .at("queue_id")
            .as_string());
  }
  void consumer(const std::string& queue, const std::string& body) {
    ok("POST", base + "/" + queue + "/consumers", body);
  }
  void push(const std::string& queue, const std::string& body) {
    ok("POST", base + "/" + queue + "/messages", body);
  }
  json::array pull(const std::string& queue, const std::string& body = R"({"batch_size":100})") {
    return ok("POST", base + "/" + queue + "/messages/pull", body).at("messages").as_array();
  }
  json::value ack(const std::string& queue, const std::string& body) {
    return ok("POST", base + "/" + queue + "/messages/ack", body);
  }
  std::int64_t backlog(const std::string& queue) {
    return ok("GET", base + "/" + queue + "/metrics", "").at("backlog_count").as_int64();
  }
  static std::string lease(const json::value& m) {
    return std::string(m.at("lease_id").as_string());
  }

  test_server server;
  http_client client;
};

TEST_F(delivery, ten_pullers_get_each_of_1000_messages_once) {
  std::string q = create("load");
  for (int b = 0; b < 10; ++b) {
    json::array messages;
    for (int i = 0; i < 100; ++i) {
      messages.push_back(
          json::object{{"body", std::to_string(b * 100 + i)}, {"content_type", "text"}});
    }
    ok("POST", base + "/" + q + "/messages/batch",
       "{\"messages\":" + json::serialize(messages) + "}");
  }
  EXPECT_EQ(backlog(q), 1000);
  std::mutex mutex;
  std::multiset<std::string> seen;
  std::vector<std::thread> pullers;
  for (int t = 0; t < 10; ++t) {
    pullers.emplace_back([&] {
      http_client own(server.port());
      for (;;) {
        auto r = own.post(base + "/" + q + "/messages/pull", R"({"batch_size":10})");
        ASSERT_EQ(r.status, 200u) << r.body;
        json::value v = r.json();
        const auto& messages = v.at("result").at("messages").as_array();
        if (messages.empty()) break;
        std::lock_guard lock(mutex);
        for (const auto& m : messages) seen.insert(std::string(m.at("id").as_string()));
      }
    });
  }
  for (auto& t : pullers) t.join();
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 1000u);  // no duplicates
  EXPECT_EQ(backlog(q), 1000);  // leased messages stay in the backlog
}

TEST_F(delivery, expired_lease_redelivers_with_attempts_2_and_a_late_ack_deletes) {
  std::string q = create("leases");
  push(q, R"({"body":"once","content_type":"text"})");
  auto first = pull(q, R"({"visibility_timeout_ms":5000})");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].at("attempts"), 1);
  EXPECT_TRUE(pull(q).empty());  // the lease holds
  server.clock().advance_ms(4999);
  EXPECT_TRUE(pull(q).empty());
  server.clock().advance_ms(1);
  auto second = pull(q);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].at("id"), first[0].at("id"));
  EXPECT_EQ(second[0].at("attempts"), 2);
  EXPECT_NE(lease(second[0]), lease(first[0]));
  // While the second lease holds the message, the first can neither ack nor retry it.
  const std::string stale = R"({"lease_id":")" + lease(first[0]) + R"("})";
  auto refused = ack(q, R"({"acks":[)" + stale + "]}");
  EXPECT_EQ(refused.at("ackCount"), 0);
  EXPECT_TRUE(refused.at("warnings").as_object().contains(lease(first[0]))) << refused;
  refused = ack(q, R"({"retries":[)" + stale + "]}");
  EXPECT_EQ(refused.at("retryCount"), 0);
  EXPECT_EQ(refused.at("warnings").as_object().size(), 1u);
  EXPECT_EQ(backlog(q), 1);
  // Once the second lease has ended too, the first, expired lease still
  // acknowledges the message (a late ack).
  server.clock().advance_ms(30'000);
  auto done = ack(q, R"({"acks":[)" + stale + "]}");
  EXPECT_EQ(done, json::parse(R"({"ackCount":1,"retryCount":0,"warnings":{}})"));
  EXPECT_EQ(backlog(q), 0);
  auto again =
      ack(q, R"({"acks":[{"lease_id":")" + lease(second[0]) + R"("},{"lease_id":"junk"}]})");
  EXPECT_EQ(again.at("ackCount"), 0);
  EXPECT_EQ(again.at("warnings").as_object().size(), 2u);
}

// The reproduction of the stale-lease bug: lease A expires, lease B takes
// the message, and A's retry must neither count nor free the message.
TEST_F(delivery, a_stale_lease_cannot_retry_a_message_another_pull_holds) {
  std::string q = create("stale");
  push(q, R"({"body":"x","content_type":"text"})");
  auto a = pull(q, R"({"visibility_timeout_ms":1})");
  ASSERT_EQ(a.size(), 1u);
  server.clock().advance_ms(50);
  auto b = pull(q, R"({"visibility_timeout_ms":60000})");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].at("attempts"), 2);
  auto r = ack(q, R"({"retries":[{"lease_id":")" + lease(a[0]) + R"("}]})");
  EXPECT_EQ(r.at("retryCount"), 0) << r;
  EXPECT_EQ(r.at("ackCount"), 0) << r;
  EXPECT_TRUE(r.at("warnings").as_object().contains(lease(a[0]))) << r;
  EXPECT_TRUE(pull(q).empty());  // B still holds it
  server.clock().advance_ms(59'999);
  EXPECT_TRUE(pull(q).empty());
  server.clock().advance_ms(1);  // B ends
  auto c = pull(q);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].at("attempts"), 3);
}

TEST_F(delivery, retry_waits_for_its_delay) {
  std::string q = create("retry");
  push(q, R"({"body":"r","content_type":"text"})");
  auto m = pull(q);
  ASSERT_EQ(m.size(), 1u);
  auto r = ack(q, R"({"retries":[{"lease_id":")" + lease(m[0]) + R"(","delay_seconds":60}]})");
  EXPECT_EQ(r.at("retryCount"), 1);
  EXPECT_TRUE(pull(q).empty());
  server.clock().advance_ms(59'999);
  EXPECT_TRUE(pull(q).empty());
  server.clock().advance_ms(1);
  auto again = pull(q);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].at("attempts"), 2);
}

TEST_F(delivery, retry_without_delay_uses_the_consumer_retry_delay) {
  std::string q = create("retry-default");
  consumer(q, R"({"type":"http_pull","settings":{"retry_delay":10}})");
  push(q, R"({"body":1})");
  auto m = pull(q);
  ack(q, R"({"retries":[{"lease_id":")" + lease(m[0]) + R"("}]})");
  server.clock().advance_ms(9'999);
  EXPECT_TRUE(pull(q).empty());
  server.clock().advance_ms(1);
  EXPECT_EQ(pull(q).size(), 1u);
}

TEST_F(delivery, messages_past_max_retries_move_to_the_dead_letter_queue) {
  std::string q = create("work");
  consumer(q,
           R"({"type":"http_pull","dead_letter_queue":"work-dlq","settings":{"max_retries":1}})");
  push(q, R"({"body":{"job":7}})");
  auto first = pull(q);
  ASSERT_EQ(first.size(), 1u);
  std::string id(first[0].at("id").as_string());
  std::int64_t ts = first[0].at("timestamp_ms").as_int64();
  ack(q, R"({"retries":[{"lease_id":")" + lease(first[0]) + R"("}]})");
  auto second = pull(q);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].at("attempts"), 2);
  ack(q, R"({"retries":[{"lease_id":")" + lease(second[0]) + R"("}]})");  // 2 > max_retries
  EXPECT_TRUE(pull(q).empty());
  EXPECT_EQ(backlog(q), 0);
  auto dlq = ok("GET", base + "?name=work-dlq", "");
  ASSERT_EQ(dlq.as_array().size(), 1u);
  std::string dlq_id(dlq.at(0).at("queue_id").as_string());
  EXPECT_EQ(backlog(dlq_id), 1);
  auto dead = pull(dlq_id);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].at("id").as_string(), id);
  EXPECT_EQ(dead[0].at("timestamp_ms"), ts);
  EXPECT_EQ(dead[0].at("body"), "eyJqb2IiOjd9");  // base64 of {"job":7}
  EXPECT_EQ(dead[0].at("attempts"), 1);
}

TEST_F(delivery, expired_leases_count_as_retries) {
  std::string q = create("expiring");
  consumer(q, R"({"type":"http_pull","settings":{"max_retries":0,"visibility_timeout_ms":1000}})");
  push(q, R"({"body":1})");
  EXPECT_EQ(pull(q).size(), 1u);
  server.clock().advance_ms(1000);
  EXPECT_TRUE(pull(q).empty());  // exhausted, and no dead-letter queue: deleted
  EXPECT_EQ(backlog(q), 0);
}

TEST_F(delivery, pull_returns_text_raw_json_base64_and_metadata) {
  std::string q = create("bodies");
  push(q, R"({"body":"plain text","content_type":"text"})");
  push(q, R"({"body":{"a":[1,2]},"content_type":"json"})");
  push(q, R"({"body":"late","content_type":"text","delay_seconds":5})");
  server.clock().advance_ms(5000);
  auto r = ok("POST", base + "/" + q + "/messages/pull", R"({"batch_size":10})");
  EXPECT_EQ(r.at("message_backlog_count"), 3);
  EXPECT_EQ(r.at("metadata").at("metrics").at("backlog_count"), 3);
  auto m = r.at("messages").as_array();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].at("body"), "plain text");
  EXPECT_EQ(m[0].at("metadata"),
            json::parse(R"({"CF-Content-Type":"text","CF-sourceMessageSource":"api"})"));
  EXPECT_EQ(m[1].at("body"), "eyJhIjpbMSwyXX0=");  // base64 of {"a":[1,2]}
  EXPECT_EQ(m[1].at("metadata").at("CF-Content-Type"), "json");
  EXPECT_EQ(m[2].at("metadata").at("CF-msg-delay-secs"), "5");
  EXPECT_EQ(m[0].at("timestamp_ms"), test_epoch_us / 1000);
}

TEST_F(delivery, delay_precedence_message_batch_queue) {
  std::string q = create("delays", R"({"delivery_delay":100})");
  ok("POST", base + "/" + q + "/messages/batch",
     R"({"delay_seconds":20,"messages":[{"body":"m5","content_type":"text","delay_seconds":5},)"
     R"({"body":"b20","content_type":"text"},{"body":"m0","content_type":"text","delay_seconds":0}]})");
  push(q, R"({"body":"q100","content_type":"text"})");
  // Pulls, acknowledges what came, and returns the bodies.
  auto bodies = [&](json::array a) {
    std::vector<std::string> out;
    for (auto& m : a) {
      out.emplace_back(m.at("body").as_string());
      ack(q, R"({"acks":[{"lease_id":")" + lease(m) + R"("}]})");
    }
    return out;
  };
  EXPECT_EQ(bodies(pull(q)), std::vector<std::string>{"m0"});
  server.clock().advance_ms(5000);
  EXPECT_EQ(bodies(pull(q)), std::vector<std::string>{"m5"});
  server.clock().advance_ms(15000);
  EXPECT_EQ(bodies(pull(q)), std::vector<std::string>{"b20"});
  server.clock().advance_ms(80000);
  EXPECT_EQ(bodies(pull(q)), std::vector<std::string>{"q100"});
}

TEST_F(delivery, paused_queue_accepts_pushes_and_refuses_pulls) {
  std::string q = create("paused");
  ok("PATCH", base + "/" + q, R"({"settings":{"delivery_paused":true}})");
  push(q, R"({"body":1})");
  auto r = client.post(base + "/" + q + "/messages/pull", "{}");
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.body,
            R"({"success":false,"errors":[{"code":11010,"message":"queue_delivery_paused"}],)"
            R"("messages":[],"result":null})");
  ok("PATCH", base + "/" + q, R"({"settings":{"delivery_paused":false}})");
  EXPECT_EQ(pull(q).size(), 1u);
}

TEST_F(delivery, retention_removes_old_messages_from_the_metrics) {
  std::string q = create("short", R"({"message_retention_period":60})");
  push(q, R"({"body":1})");
  server.clock().advance_ms(30'000);
  push(q, R"({"body":22})");
  EXPECT_EQ(backlog(q), 2);
  server.clock().advance_ms(30'001);
  auto m = ok("GET", base + "/" + q + "/metrics", "");
  EXPECT_EQ(m.at("backlog_count"), 1);
  EXPECT_EQ(m.at("backlog_bytes"), 2);
  EXPECT_EQ(m.at("oldest_message_timestamp_ms"), test_epoch_us / 1000 + 30'000);
}

TEST_F(delivery, peek_does_not_lease_and_purge_by_ref_deletes) {
  std::string q = create("peek");
  push(q, R"({"body":"a","content_type":"text"})");
  push(q, R"({"body":"b","content_type":"text"})");
  auto peeked = ok("POST", base + "/" + q + "/messages/peek", R"({"batch_size":1})")
                    .at("messages")
                    .as_array();
  ASSERT_EQ(peeked.size(), 1u);
  EXPECT_EQ(peeked[0].at("body"), "a");
  std::string ref(peeked[0].at("ref").as_string());
  EXPECT_EQ(pull(q, R"({"batch_size":10})").size(), 2u);  // peek leased nothing
  auto purged = ok("POST", base + "/" + q + "/messages/purge",
                   R"({"refs":[{"ref":")" + ref + R"("},{"ref":"nope"}]})");
  EXPECT_EQ(purged.at("warnings").as_object().size(), 1u);
  EXPECT_EQ(backlog(q), 1);
}

TEST_F(delivery, queue_purge_deletes_everything_and_reports_status) {
  std::string q = create("purge");
  auto status = ok("GET", base + "/" + q + "/purge", "");
  EXPECT_EQ(status, json::parse(R"({"started_at":null,"completed":"false","complete":false})"));
  push(q, R"({"body":1})");
  push(q, R"({"body":2,"delay_seconds":600})");
  auto refused = client.post(base + "/" + q + "/purge", "{}");
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.json().at("errors").at(0).at("code"), 10026);
  EXPECT_EQ(backlog(q), 2);
  auto queue = ok("POST", base + "/" + q + "/purge", R"({"delete_messages_permanently":true})");
  EXPECT_EQ(queue.at("queue_id").as_string(), q);
  EXPECT_EQ(backlog(q), 0);
  status = ok("GET", base + "/" + q + "/purge", "");
  EXPECT_EQ(status.at("completed"), "true");
  EXPECT_EQ(status.at("complete"), true);
  EXPECT_EQ(status.at("started_at"), "2026-11-29T19:45:52.123456Z");
}

TEST_F(delivery, message_plane_errors) {
  std::string q = create("errs");
  struct error_case {
    std::string target;
    std::string body;
    unsigned status;
    int code;
  };
  std::vector<error_case> cases = {
      {base + "/missing/messages/pull", "{}", 404, 10104},
      {base + "/missing/messages/ack", "{}", 404, 10104},
      {base + "/missing/messages/peek", "{}", 404, 10104},
      {base + "/missing/messages/purge", R"({"refs":[]})", 404, 10104},
      {base + "/" + q + "/messages/pull", R"({"batch_size":0})", 400, 10207},
      {base + "/" + q + "/messages/pull", R"({"batch_size":101})", 400, 10207},
      {base + "/" + q + "/messages/pull", R"({"visibility_timeout_ms":43200001})", 400, 10207},
      {base + "/" + q + "/messages/pull", "[1]", 400, 10207},
      {base + "/" + q + "/messages/pull", "{", 400, 10208},
      {base + "/" + q + "/messages/ack", R"({"acks":{}})", 400, 10207},
      {base + "/" + q + "/messages/ack", R"({"acks":[{}]})", 400, 10207},
      {base + "/" + q + "/messages/ack", R"({"retries":[{"lease_id":"x","delay_seconds":-1}]})",
       400, 10203},
      {base + "/" + q + "/messages/purge", "{}", 400, 10207},
      {base + "/" + q + "/messages/batch", R"({"messages":[]})", 400, 10206},
      {base + "/" + q + "/messages/batch", R"({})", 400, 10207},
      {base + "/" + q + "/messages/batch", R"({"messages":[{"body":1}],"delay_seconds":-5})", 400,
       10202},
      {base + "/" + q + "/messages/batch", R"({"messages":[{"body":1}],"delay_seconds":86401})",
       400, 10202},
      {base + "/" + q + "/messages/batch", R"({"messages":[{"body":1}],"delay_seconds":"1"})", 400,
       10202},
      {base + "/" + q + "/messages/batch", R"({"messages":[{"body":1,"delay_seconds":-1}]})", 400,
       10203},
      {base + "/" + q + "/messages/batch", R"({"messages":[{"body":1,"content_type":"v8"}]})", 400,
       10203},
      {base + "/" + q + "/messages/batch", R"({"messages":[{"content_type":"text"}]})", 400, 10207},
      {base + "/" + q + "/messages/batch",
       R"({"messages":[{"content_type":"text","body":")" + std::string(128'001, 'x') + R"("}]})",
       413, 10204},
      {base + "/" + q + "/messages/peek", R"({"batch_size":0})", 400, 10207},
      {base + "/" + q + "/messages/peek", R"({"batch_size":"5"})", 400, 10207},
  };
  json::array many;
  for (int i = 0; i < 101; ++i) many.push_back(json::object{{"body", i}});
  cases.push_back({base + "/" + q + "/messages/batch",
                   "{\"messages\":" + json::serialize(many) + "}", 400, 10206});
  json::array big;
  for (int i = 0; i < 3; ++i) {
    big.push_back(json::object{{"body", std::string(100'000, 'x')}, {"content_type", "text"}});
  }
  cases.push_back({base + "/" + q + "/messages/batch",
                   "{\"messages\":" + json::serialize(big) + "}", 413, 10205});
  for (const auto& c : cases) {
    auto r = client.post(c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.target << " " << c.body.substr(0, 80);
    json::value v = r.json();
    EXPECT_EQ(v.at("errors").at(0).at("code"), c.code) << c.target << " " << c.body.substr(0, 80);
    EXPECT_EQ(v.at("success"), false);
    EXPECT_TRUE(v.at("result").is_null());
  }
  EXPECT_EQ(backlog(q), 0);
  // A malformed queue id is 10107 on every message-plane route (control
  // plane: 7003), whatever the body.
  for (const std::string& bad : {std::string(33, 'q'), std::string("has.dot"), std::string()}) {
    for (const char* route : {"/messages", "/messages/batch", "/messages/pull", "/messages/ack",
                              "/messages/peek", "/messages/purge"}) {
      auto r = client.post(base + "/" + bad + route, "{}");
      EXPECT_EQ(r.status, 400u) << bad << route;
      EXPECT_EQ(r.json().at("errors").at(0).at("code"), 10107) << bad << route << r.body;
    }
    auto control = client.request("GET", base + "/" + bad + "/consumers", "");
    EXPECT_EQ(control.json().at("errors").at(0).at("code"), 7003) << bad << control.body;
    auto purge =
        client.post(base + "/" + bad + "/purge", R"({"delete_messages_permanently":true})");
    EXPECT_EQ(purge.json().at("errors").at(0).at("code"), 7003) << bad << purge.body;
  }
  // A bad account id stays a routing failure.
  auto r = client.post("/client/v4/accounts/" + std::string(33, 'a') + "/queues/q/messages", "{}");
  EXPECT_EQ(r.json().at("errors").at(0).at("code"), 7003) << r.body;
}

// After a mix of every operation, the metrics of each route agree with the
// rows in the database file.
TEST_F(delivery, metrics_agree_with_the_stored_data) {
  std::string q = create("mixed");
  consumer(q,
           R"({"type":"http_pull","dead_letter_queue":"mixed-dlq","settings":{"max_retries":0}})");
  for (int i = 0; i < 20; ++i) {
    push(q, R"({"body":")" + std::string(static_cast<std::size_t>(i + 1), 'x') +
                R"(","content_type":"text"})");
    server.clock().advance_ms(7);
  }
  ok("POST", base + "/" + q + "/messages/batch",
     R"({"messages":[{"body":{"k":1}},{"body":[1,2,3],"delay_seconds":30}]})");
  auto pulled = pull(q, R"({"batch_size":6})");
  ack(q, R"({"acks":[{"lease_id":")" + lease(pulled[0]) + R"("}],"retries":[{"lease_id":")" +
             lease(pulled[1]) + R"("}]})");  // max_retries 0: to the dead-letter queue
  auto peeked = ok("POST", base + "/" + q + "/messages/peek", R"({"batch_size":2})");
  ok("POST", base + "/" + q + "/messages/purge",
     R"({"refs":[{"ref":")" + std::string(peeked.at("messages").at(0).at("ref").as_string()) +
         R"("}]})");
  server.clock().advance_ms(30'000);  // the leases end

  auto expect_agree = [&](const std::string& queue_id) {
    auto metrics = ok("GET", base + "/" + queue_id + "/metrics", "");
    storage::database db = storage::database::open(server.db_path());
    auto rows = db.prepare(
        "SELECT count(*), coalesce(sum(size_bytes), 0), coalesce(min(timestamp_ms), 0) "
        "FROM messages JOIN queues USING (qkey) WHERE account_id = 'acc' AND queue_id = ?1");
    rows->bind(1, queue_id);
    ASSERT_TRUE(rows->step());
    EXPECT_EQ(metrics.at("backlog_count"), rows->column_int64(0)) << queue_id;
    EXPECT_EQ(metrics.at("backlog_bytes"), rows->column_int64(1)) << queue_id;
    EXPECT_EQ(metrics.at("oldest_message_timestamp_ms"), rows->column_int64(2)) << queue_id;
  };
  expect_agree(q);
  auto pulled_again = ok("POST", base + "/" + q + "/messages/pull", R"({"batch_size":100})");
  expect_agree(q);
  auto dlq = ok("GET", base + "?name=mixed-dlq", "");
  std::string dlq_id(dlq.at(0).at("queue_id").as_string());
  expect_agree(dlq_id);
  // The pull's own metrics are the metrics route's.
  EXPECT_EQ(pulled_again.at("metadata").at("metrics"), ok("GET", base + "/" + q + "/metrics", ""));
  EXPECT_EQ(pulled_again.at("message_backlog_count"),
            pulled_again.at("metadata").at("metrics").at("backlog_count"));
}

// Retention applies before ack, retry and purge by ref: a message past its
// queue's retention is gone for them too (and never reaches a dead-letter
// queue to outlive its own retention there).
TEST_F(delivery, ack_retry_and_purge_apply_retention_first) {
  std::string q = create("short-lived", R"({"message_retention_period":60})");
  consumer(q,
           R"({"type":"http_pull","dead_letter_queue":"graveyard","settings":{"max_retries":0}})");
  for (int i = 0; i < 3; ++i) push(q, R"({"body":"old","content_type":"text"})");
  auto leased = pull(q);
  ASSERT_EQ(leased.size(), 3u);
  server.clock().advance_ms(61'000);
  auto acked = ack(q, R"({"acks":[{"lease_id":")" + lease(leased[0]) +
                          R"("}],"retries":[{"lease_id":")" + lease(leased[1]) + R"("}]})");
  EXPECT_EQ(acked.at("ackCount"), 0) << acked;
  EXPECT_EQ(acked.at("retryCount"), 0) << acked;
  EXPECT_EQ(acked.at("warnings").as_object().size(), 2u) << acked;
  auto purged =
      ok("POST", base + "/" + q + "/messages/purge",
         R"({"refs":[{"ref":"ref-)" + std::string(leased[2].at("id").as_string()) + R"("}]})");
  EXPECT_EQ(purged.at("warnings").as_object().size(), 1u) << purged;
  EXPECT_EQ(backlog(q), 0);
  auto all = ok("GET", base + "?name=graveyard", "");
  ASSERT_EQ(all.as_array().size(), 1u);
  EXPECT_EQ(backlog(std::string(all.at(0).at("queue_id").as_string())), 0)
      << "nothing was retried into the dead-letter queue";
}

// One message named again and again in one request counts once; the
// repeats are warnings.
TEST_F(delivery, repeated_lease_ids_count_once) {
  std::string q = create("repeats");
  push(q, R"({"body":"a","content_type":"text"})");
  push(q, R"({"body":"b","content_type":"text"})");
  auto leased = pull(q);
  ASSERT_EQ(leased.size(), 2u);
  std::string a = lease(leased[0]), b = lease(leased[1]);
  auto r = ack(q, R"({"retries":[{"lease_id":")" + a + R"("},{"lease_id":")" + a +
                      R"("},{"lease_id":")" + a + R"("}],"acks":[{"lease_id":")" + b +
                      R"("},{"lease_id":")" + b + R"("}]})");
  EXPECT_EQ(r.at("retryCount"), 1) << r;
  EXPECT_EQ(r.at("ackCount"), 1) << r;
  EXPECT_TRUE(r.at("warnings").as_object().contains(a)) << r;
  EXPECT_TRUE(r.at("warnings").as_object().contains(b)) << r;
  auto again = pull(q);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].at("attempts"), 2);
}

TEST_F(delivery, purge_with_null_refs_is_10207) {
  std::string q = create("nullrefs");
  auto r = client.post(base + "/" + q + "/messages/purge", R"({"refs":null})");
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.json().at("errors").at(0).at("code"), 10207) << r.body;
}

// A push creates a queue named after its id only when the id is a valid
// queue name; else 10104, and nothing is created.
TEST_F(delivery, push_creates_no_queue_whose_id_is_no_queue_name) {
  for (std::string id : {"my_queue", "-lead", "trail-", "_"}) {
    auto r = client.post(push_path("acc", id), R"({"body":1})");
    EXPECT_EQ(r.status, 404u) << id << " " << r.body;
    EXPECT_EQ(r.json().at("errors").at(0).at("code"), 10104) << r.body;
    EXPECT_NE(r.body.find("not a valid queue name"), std::string::npos) << r.body;
  }
  EXPECT_EQ(ok("GET", base, "").as_array().size(), 0u);
  EXPECT_EQ(client.post(push_path("acc", "ok-Name-1"), R"({"body":1})").status, 200u);
}

// The default: as on Cloudflare.
class strict_delivery : public delivery {
 protected:
  strict_delivery() : delivery([](config&) {}) {}
};

TEST_F(strict_delivery, batch_to_an_unknown_queue_is_10104) {
  auto r = client.post(base + "/unknown/messages/batch", R"({"messages":[{"body":1}]})");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.json().at("errors").at(0).at("code"), 10104);
}

TEST_F(strict_delivery, pull_needs_an_http_pull_consumer) {
  std::string q = create("strict");
  push(q, R"({"body":1})");
  auto r = client.post(base + "/" + q + "/messages/pull", "{}");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.json().at("errors").at(0).at("code"), 10405);
  consumer(q, R"({"type":"http_pull"})");
  EXPECT_EQ(pull(q).size(), 1u);
}

}  // namespace
}  // namespace flareq::test
