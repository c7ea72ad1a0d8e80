// The control plane on the real server: queues (list, create, get, PUT,
// PATCH, delete), metrics and consumers, with their errors.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <string>

#include "tests/support/http_client.hpp"
#include "tests/support/test_server.hpp"

namespace flareq::test {
namespace {

namespace json = boost::json;

const std::string base = "/client/v4/accounts/acc/queues";

class queues : public ::testing::Test {
 protected:
  queues() : client(server.port()) {}

  json::value call(std::string_view method, const std::string& target, std::string_view body,
                   unsigned status) {
    auto r = client.request(method, target, body);
    EXPECT_EQ(r.status, status) << method << " " << target << " " << body << " -> " << r.body;
    return r.json();
  }
  json::value ok(std::string_view method, const std::string& target, std::string_view body = "") {
    return call(method, target, body, 200).at("result");
  }
  int error_code(std::string_view method, const std::string& target, std::string_view body,
                 unsigned status) {
    json::value v = call(method, target, body, status);
    EXPECT_EQ(v.at("success"), false);
    EXPECT_TRUE(v.at("result").is_null());
    return static_cast<int>(v.at("errors").at(0).at("code").as_int64());
  }
  std::string create(const std::string& name) {
    return std::string(
        ok("POST", base, R"({"queue_name":")" + name + R"("})").at("queue_id").as_string());
  }

  test_server server;
  http_client client;
};

TEST_F(queues, create_get_and_the_queue_object) {
  json::value q = ok("POST", base,
                     R"({"queue_name":"orders","settings":{"delivery_delay":5,)"
                     R"("message_retention_period":86400}})");
  std::string id(q.at("queue_id").as_string());
  EXPECT_TRUE(std::regex_match(id, std::regex("^[0-9a-f]{32}$")));
  EXPECT_EQ(q.at("queue_name"), "orders");
  EXPECT_EQ(q.at("created_on"), "2026-11-29T19:45:52.123456Z");
  EXPECT_EQ(q.at("modified_on"), "2026-11-29T19:45:52.123456Z");
  EXPECT_EQ(q.at("producers_total_count"), 0);
  EXPECT_EQ(q.at("consumers_total_count"), 0);
  EXPECT_EQ(q.at("settings"), json::parse(R"({"delivery_delay":5,"delivery_paused":false,)"
                                          R"("message_retention_period":86400})"));
  EXPECT_EQ(ok("GET", base + "/" + id), q);
}

TEST_F(queues, list_filters_by_repeated_names_and_pages) {
  for (const char* name : {"a1", "b2", "c3", "d4", "e5"}) create(name);
  auto all = call("GET", base, "", 200);
  EXPECT_EQ(all.at("result").as_array().size(), 5u);
  EXPECT_EQ(all.at("result_info"),
            json::parse(R"({"page":1,"per_page":100,"count":5,"total_count":5,"total_pages":1})"));
  auto named = call("GET", base + "?page=1&name=b2&name=d4&name=zz", "", 200);
  ASSERT_EQ(named.at("result").as_array().size(), 2u);
  EXPECT_EQ(named.at("result").at(0).at("queue_name"), "b2");
  EXPECT_EQ(named.at("result").at(1).at("queue_name"), "d4");
  auto page2 = call("GET", base + "?page=2&per_page=2", "", 200);
  ASSERT_EQ(page2.at("result").as_array().size(), 2u);
  EXPECT_EQ(page2.at("result").at(0).at("queue_name"), "c3");
  EXPECT_EQ(page2.at("result_info"),
            json::parse(R"({"page":2,"per_page":2,"count":2,"total_count":5,"total_pages":3})"));
  // Another account sees none of them.
  EXPECT_EQ(ok("GET", "/client/v4/accounts/other/queues").as_array().size(), 0u);
}

TEST_F(queues, put_replaces_and_patch_merges_settings) {
  std::string id = create("s");
  ok("PUT", base + "/" + id,
     R"({"queue_name":"s","settings":{"delivery_delay":7,"message_retention_period":120}})");
  server.clock().advance_ms(1000);
  auto patched = ok("PATCH", base + "/" + id, R"({"settings":{"delivery_paused":true}})");
  EXPECT_EQ(patched.at("settings"), json::parse(R"({"delivery_delay":7,"delivery_paused":true,)"
                                                R"("message_retention_period":120})"));
  EXPECT_EQ(patched.at("modified_on"), "2026-11-29T19:45:53.123456Z");
  auto put = ok("PUT", base + "/" + id, R"({"queue_name":"s","settings":{"delivery_delay":1}})");
  EXPECT_EQ(put.at("settings"), json::parse(R"({"delivery_delay":1,"delivery_paused":false,)"
                                            R"("message_retention_period":345600})"));
}

TEST_F(queues, delete_removes_the_queue_and_its_messages) {
  std::string id = create("gone");
  ok("POST", base + "/" + id + "/messages", R"({"body":1})");
  auto r = call("DELETE", base + "/" + id, "", 200);
  EXPECT_TRUE(r.at("result").is_null());
  EXPECT_EQ(error_code("GET", base + "/" + id, "", 404), 11000);
  EXPECT_EQ(error_code("DELETE", base + "/" + id, "", 404), 11000);
}

TEST_F(queues, metrics_route) {
  std::string id = create("m");
  EXPECT_EQ(
      ok("GET", base + "/" + id + "/metrics"),
      json::parse(R"({"backlog_bytes":0,"backlog_count":0,"oldest_message_timestamp_ms":0})"));
  ok("POST", base + "/" + id + "/messages", R"({"body":"abc","content_type":"text"})");
  EXPECT_EQ(ok("GET", base + "/" + id + "/metrics").at("backlog_bytes"), 3);
  EXPECT_EQ(error_code("GET", base + "/nope/metrics", "", 404), 10104);
}

TEST_F(queues, control_plane_errors) {
  std::string id = create("taken");
  EXPECT_EQ(error_code("POST", base, R"({"queue_name":"taken"})", 409), 11009);
  EXPECT_EQ(error_code("POST", base, R"({"queue_name":"-bad"})", 400), 11003);
  EXPECT_EQ(error_code("POST", base, R"({"queue_name":"has_underscore"})", 400), 11003);
  EXPECT_EQ(error_code("POST", base, R"({"queue_name":")" + std::string(64, 'a') + R"("})", 400),
            11003);
  EXPECT_EQ(error_code("POST", base, R"({})", 400), 10026);
  EXPECT_EQ(error_code("POST", base, R"({"queue_name":5})", 400), 10026);
  // Invalid queue settings are 100128 on create, PUT and PATCH.
  EXPECT_EQ(error_code("POST", base, R"({"queue_name":"x","settings":{"delivery_delay":-1}})", 400),
            100128);
  EXPECT_EQ(error_code("POST", base,
                       R"({"queue_name":"x","settings":{"message_retention_period":59}})", 400),
            100128);
  EXPECT_EQ(error_code("POST", base, R"({"queue_name":"x","settings":{"delivery_paused":1}})", 400),
            100128);
  EXPECT_EQ(error_code("POST", base, R"({"queue_name":"x","settings":[]})", 400), 100128);
  EXPECT_EQ(error_code("PUT", base + "/" + id, R"({"settings":{"delivery_delay":86401}})", 400),
            100128);
  EXPECT_EQ(error_code("PATCH", base + "/" + id, R"({"settings":{"delivery_paused":"yes"}})", 400),
            100128);
  EXPECT_EQ(error_code("POST", base, "nope", 400), 10208);
  // Query parameters say that they are the problem.
  for (const std::string query : {"?page=0", "?per_page=1001", "?page=x"}) {
    auto r = client.request("GET", base + query, "");
    EXPECT_EQ(r.status, 400u) << query;
    EXPECT_EQ(r.json().at("errors").at(0).at("code"), 10026) << query;
    std::string message(r.json().at("errors").at(0).at("message").as_string());
    EXPECT_TRUE(message.starts_with("Invalid query parameter: ")) << message;
  }
  EXPECT_EQ(error_code("GET", base + "/unknown", "", 404), 11000);
  EXPECT_EQ(error_code("PATCH", base + "/unknown", "{}", 404), 11000);
  EXPECT_EQ(error_code("PUT", base + "/" + id, R"({"queue_name":"no way"})", 400), 11003);
  EXPECT_EQ(error_code("POST", base + "/" + id, "{}", 405), 10405);
  EXPECT_EQ(error_code("DELETE", base, "", 405), 10405);
  EXPECT_EQ(error_code("GET", base + "/" + id + "/purge/x", "", 400), 7003);
  std::string other = create("other");
  EXPECT_EQ(error_code("PUT", base + "/" + other, R"({"queue_name":"taken"})", 409), 11009);
  EXPECT_EQ(error_code("PATCH", base + "/" + other, R"({"queue_name":"taken"})", 409), 11009);
  EXPECT_EQ(error_code("PUT", base + "/unknown", R"({"queue_name":"fresh"})", 404), 11000);
  EXPECT_EQ(
      error_code("POST", base + "/unknown/purge", R"({"delete_messages_permanently":true})", 404),
      11000);
  EXPECT_EQ(error_code("GET", base + "/unknown/purge", "", 404), 11000);
  // Credentials guard the control plane too.
  auto r = client.request("GET", base, "", {});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json().at("errors").at(0).at("code"), 9106);
  // Nothing above created a queue.
  EXPECT_EQ(ok("GET", base).as_array().size(), 2u);
}

TEST_F(queues, consumers_lifecycle) {
  std::string id = create("jobs");
  auto c = ok("POST", base + "/" + id + "/consumers",
              R"({"type":"worker","script_name":"my-worker","dead_letter_queue":"jobs-dlq",)"
              R"("settings":{"batch_size":50,"max_retries":5}})");
  std::string cid(c.at("consumer_id").as_string());
  EXPECT_TRUE(std::regex_match(cid, std::regex("^[0-9a-f]{32}$")));
  EXPECT_EQ(c.at("type"), "worker");
  EXPECT_EQ(c.at("script_name"), "my-worker");
  EXPECT_EQ(c.at("queue_name"), "jobs");
  EXPECT_EQ(c.at("dead_letter_queue"), "jobs-dlq");
  EXPECT_EQ(c.at("settings"),
            json::parse(R"({"batch_size":50,"max_concurrency":null,)"
                        R"("max_retries":5,"max_wait_time_ms":5000,"retry_delay":0})"));
  // The dead-letter queue was created.
  EXPECT_EQ(ok("GET", base + "?name=jobs-dlq").as_array().size(), 1u);
  // The queue embeds it with both script keys.
  auto q = ok("GET", base + "/" + id);
  EXPECT_EQ(q.at("consumers_total_count"), 1);
  EXPECT_EQ(q.at("consumers").at(0).at("script"), "my-worker");
  EXPECT_EQ(q.at("consumers").at(0).at("script_name"), "my-worker");
  EXPECT_EQ(ok("GET", base + "/" + id + "/consumers").as_array().size(), 1u);
  EXPECT_EQ(ok("GET", base + "/" + id + "/consumers/" + cid), c);
  EXPECT_EQ(error_code("POST", base + "/" + id + "/consumers", R"({"type":"http_pull"})", 409),
            11004);
  auto replaced = ok("PUT", base + "/" + id + "/consumers/" + cid,
                     R"({"type":"http_pull","settings":{"visibility_timeout_ms":9000}})");
  EXPECT_EQ(replaced.at("consumer_id").as_string(), cid);
  EXPECT_EQ(replaced.at("type"), "http_pull");
  EXPECT_EQ(replaced.at("settings"),
            json::parse(R"({"batch_size":5,"max_retries":3,)"
                        R"("retry_delay":0,"visibility_timeout_ms":9000})"));
  EXPECT_TRUE(
      call("DELETE", base + "/" + id + "/consumers/" + cid, "", 200).at("result").is_null());
  EXPECT_EQ(ok("GET", base + "/" + id + "/consumers").as_array().size(), 0u);
  // PUT on a queue without a consumer creates it under that id.
  auto created =
      ok("PUT", base + "/" + id + "/consumers/" + std::string(32, 'c'), R"({"type":"http_pull"})");
  EXPECT_EQ(created.at("consumer_id").as_string(), std::string(32, 'c'));
}

// PUT of a consumer id that belongs to another queue's consumer is 409 and
// leaves that consumer (and its dead-letter settings) as they were.
TEST_F(queues, put_of_another_queues_consumer_id_is_409_and_changes_nothing) {
  std::string a = create("first");
  std::string b = create("second");
  auto theirs = ok("POST", base + "/" + a + "/consumers",
                   R"({"type":"http_pull","dead_letter_queue":"first-dlq",)"
                   R"("settings":{"max_retries":7}})");
  std::string cid(theirs.at("consumer_id").as_string());
  EXPECT_EQ(error_code("PUT", base + "/" + b + "/consumers/" + cid, R"({"type":"http_pull"})", 409),
            11004);
  EXPECT_EQ(ok("GET", base + "/" + a + "/consumers/" + cid), theirs);
  EXPECT_EQ(ok("GET", base + "/" + b + "/consumers").as_array().size(), 0u);
}

TEST_F(queues, consumer_errors) {
  std::string id = create("c");
  const std::string path = base + "/" + id + "/consumers";
  EXPECT_EQ(error_code("POST", path, R"({})", 400), 10026);
  EXPECT_EQ(error_code("POST", path, R"({"type":"cron"})", 400), 10026);
  EXPECT_EQ(error_code("POST", path, R"({"type":"worker"})", 400), 10026);
  // Invalid consumer settings (and dead-letter queues) are 100127.
  EXPECT_EQ(error_code("POST", path, R"({"type":"http_pull","settings":{"batch_size":0}})", 400),
            100127);
  EXPECT_EQ(error_code("POST", path,
                       R"({"type":"http_pull","settings":{"visibility_timeout_ms":0}})", 400),
            100127);
  EXPECT_EQ(error_code("POST", path, R"({"type":"http_pull","settings":"x"})", 400), 100127);
  EXPECT_EQ(error_code("POST", path, R"({"type":"http_pull","dead_letter_queue":"bad name"})", 400),
            100127);
  // A dead-letter queue cannot be the consumer's own queue: POST and PUT.
  EXPECT_EQ(error_code("POST", path, R"({"type":"http_pull","dead_letter_queue":"c"})", 400),
            100127);
  EXPECT_EQ(error_code("PUT", path + "/" + std::string(32, 'e'),
                       R"({"type":"http_pull","dead_letter_queue":"c"})", 400),
            100127);
  EXPECT_EQ(error_code("POST", base + "/nope/consumers", R"({"type":"http_pull"})", 404), 11000);
  EXPECT_EQ(error_code("GET", path + "/" + std::string(32, 'f'), "", 404), 11000);
  EXPECT_EQ(error_code("DELETE", path + "/" + std::string(32, 'f'), "", 404), 11000);
  EXPECT_EQ(error_code("PUT", path + "/" + std::string(32, 'f'), R"({"script_name":"x"})", 400),
            10026);
  EXPECT_EQ(ok("GET", path).as_array().size(), 0u);
  // Nor may a rename make a queue its consumer's dead-letter queue.
  std::string r = create("r");
  ok("POST", base + "/" + r + "/consumers", R"({"type":"http_pull","dead_letter_queue":"r-dlq"})");
  json::value dlqs = ok("GET", base + "?name=r-dlq");
  ASSERT_EQ(dlqs.as_array().size(), 1u);
  for (const auto& q : dlqs.as_array()) {
    ok("DELETE", base + "/" + std::string(q.at("queue_id").as_string()));
  }
  EXPECT_EQ(error_code("PATCH", base + "/" + r, R"({"queue_name":"r-dlq"})", 400), 100127);
  EXPECT_EQ(ok("GET", base + "/" + r).at("queue_name"), "r");
}

}  // namespace
}  // namespace flareq::test
