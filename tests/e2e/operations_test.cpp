// Operations: the configuration file (provisioning, bad files), JSON logs
// with request ids, the inspection routes and the health check subcommand.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_server.hpp"

namespace flareq::test {
namespace {

namespace json = boost::json;

const std::string fixed_id = "0123456789abcdef0123456789abcdef";

std::string write_file(const temp_dir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

TEST(operations, config_file_provisions_queues_and_consumers_at_start) {
  temp_dir dir;
  std::string config = write_file(dir, "flareq.json", R"({
    "accounts": [{"id": "acc", "queues": [
      {"name": "orders", "id": ")" + fixed_id + R"(", "settings": {"delivery_delay": 2},
       "consumer": {"type": "http_pull", "dead_letter_queue": "orders-dlq",
                    "settings": {"max_retries": 1}}},
      {"name": "audit"}]}]})");
  temp_dir data;
  process p(flareq_binary(), {"--config", config, "--port", "0", "--db", data.file("f.db")});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  http_client client(port);
  auto q = client.request("GET", "/client/v4/accounts/acc/queues/" + fixed_id).json();
  EXPECT_EQ(q.at("result").at("queue_name"), "orders");
  EXPECT_EQ(q.at("result").at("settings").at("delivery_delay"), 2);
  EXPECT_EQ(q.at("result").at("consumers").at(0).at("type"), "http_pull");
  EXPECT_EQ(q.at("result").at("consumers").at(0).at("settings").at("max_retries"), 1);
  auto names = client.request("GET", "/client/v4/accounts/acc/queues").json();
  std::set<std::string> found;
  for (const auto& item : names.at("result").as_array()) {
    found.emplace(item.at("queue_name").as_string());
  }
  EXPECT_EQ(found, (std::set<std::string>{"orders", "orders-dlq", "audit"}));
  // Strict by default: the provisioned consumer is what lets pull work.
  EXPECT_EQ(client.post("/client/v4/accounts/acc/queues/" + fixed_id + "/messages", R"({"body":1})")
                .status,
            200u);
  EXPECT_EQ(client.post("/client/v4/accounts/acc/queues/" + fixed_id + "/messages/pull", "{}")
                .json()
                .at("result")
                .at("messages")
                .as_array()
                .size(),
            0u);  // delayed by the queue's delivery_delay
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);

  // A restart provisions again without duplicating anything.
  process again(flareq_binary(), {"--config", config, "--port", "0", "--db", data.file("f.db")});
  port = again.wait_for_port();
  ASSERT_NE(port, 0) << again.output();
  http_client second(port);
  EXPECT_EQ(
      second.request("GET", "/client/v4/accounts/acc/queues").json().at("result").as_array().size(),
      3u);
  EXPECT_EQ(second.request("GET", "/client/v4/accounts/acc/queues/" + fixed_id + "/metrics")
                .json()
                .at("result")
                .at("backlog_count"),
            1);
  again.send_signal(SIGTERM);
  EXPECT_EQ(again.wait(), 0);
}

TEST(operations, bad_config_files_exit_2_naming_the_key) {
  temp_dir dir;
  std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"port": 8789, "stirct": true})", "\"stirct\""},
      {R"({"port": "8789"})", "\"port\""},
      {R"({"log_format": "xml"})", "\"log_format\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "bad name"}]}]})",
       "\"accounts[0].queues[0].name\""},
      {"{not json", "not valid JSON"},
  };
  for (const auto& [text, key] : cases) {
    std::string config = write_file(dir, "bad.json", text);
    process p(flareq_binary(), {"--config", config, "--port", "0", "--db", dir.file("x.db")});
    EXPECT_EQ(p.wait(), 2) << text;
    EXPECT_NE(p.output().find(key), std::string::npos) << p.output();
    EXPECT_EQ(p.output().find("listening"), std::string::npos) << p.output();
  }
  process missing(flareq_binary(), {"--config", dir.file("missing.json")});
  EXPECT_EQ(missing.wait(), 2);
  EXPECT_NE(missing.output().find("missing.json"), std::string::npos) << missing.output();
}

TEST(operations, provisioning_conflict_exits_2) {
  temp_dir dir;
  std::string db = dir.file("f.db");
  {
    // A queue named "orders" exists with another id.
    process p(flareq_binary(), {"--lenient", "--port", "0", "--db", db});
    std::uint16_t port = p.wait_for_port();
    ASSERT_NE(port, 0) << p.output();
    http_client(port).post("/client/v4/accounts/acc/queues", R"({"queue_name":"orders"})");
    p.send_signal(SIGTERM);
    EXPECT_EQ(p.wait(), 0);
  }
  std::string config = write_file(dir, "c.json", R"({"accounts": [{"id": "acc", "queues": [
      {"name": "orders", "id": ")" + fixed_id + R"("}]}]})");
  process p(flareq_binary(), {"--config", config, "--port", "0", "--db", db});
  EXPECT_EQ(p.wait(), 2);
  EXPECT_NE(p.output().find("orders"), std::string::npos) << p.output();
}

// The start-up line says which mode runs; --strict is accepted, does
// nothing and says so; a fresh flareq answers a push to an undeclared id with
// 404/10104 and the way to fix it, and --lenient creates the queue instead.
TEST(operations, strict_by_default_lenient_on_demand_and_strict_deprecated) {
  const std::string push = "/client/v4/accounts/acc/queues/undeclared/messages";
  {
    process p(flareq_binary(), {"--port", "0", "--db", ":memory:"});
    std::uint16_t port = p.wait_for_port();
    ASSERT_NE(port, 0) << p.output();
    EXPECT_NE(p.output().find("strict, as Cloudflare"), std::string::npos) << p.output();
    http_client client(port);
    auto r = client.post(push, R"({"body":1})");
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(r.json().at("errors").at(0).at("code"), 10104);
    std::string message(r.json().at("errors").at(0).at("message").as_string());
    for (const char* hint : {"POST /accounts/{account_id}/queues", "--queue", "--lenient"}) {
      EXPECT_NE(message.find(hint), std::string::npos) << message;
    }
    EXPECT_EQ(client.request("GET", "/client/v4/accounts/acc/queues", "")
                  .json()
                  .at("result")
                  .as_array()
                  .size(),
              0u);
    p.send_signal(SIGTERM);
    EXPECT_EQ(p.wait(), 0);
  }
  {
    process p(flareq_binary(), {"--lenient", "--port", "0", "--db", ":memory:"});
    std::uint16_t port = p.wait_for_port();
    ASSERT_NE(port, 0) << p.output();
    EXPECT_NE(p.output().find("lenient: pushes create unknown queues"), std::string::npos)
        << p.output();
    http_client client(port);
    EXPECT_EQ(client.post(push, R"({"body":1})").status, 200u);
    EXPECT_EQ(client.post("/client/v4/accounts/acc/queues/undeclared/messages/pull", "{}")
                  .json()
                  .at("result")
                  .at("messages")
                  .as_array()
                  .size(),
              1u);
    p.send_signal(SIGTERM);
    EXPECT_EQ(p.wait(), 0);
  }
  {
    process p(flareq_binary(), {"--strict", "--port", "0", "--db", ":memory:"});
    std::uint16_t port = p.wait_for_port();
    ASSERT_NE(port, 0) << p.output();
    EXPECT_NE(p.output().find("--strict is deprecated and does nothing"), std::string::npos)
        << p.output();
    EXPECT_NE(p.output().find("strict, as Cloudflare"), std::string::npos) << p.output();
    p.send_signal(SIGTERM);
    EXPECT_EQ(p.wait(), 0);
  }
}

TEST(operations, json_logs_one_line_per_request_with_its_request_id) {
  process p(flareq_binary(),
            {"--lenient", "--port", "0", "--db", ":memory:", "--log-format", "json"});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  std::vector<std::string> ids;
  {
    http_client client(port);
    for (int i = 0; i < 5; ++i) {
      auto r = client.post(push_path("acc", "q"), R"({"body":1})");
      ids.push_back(r.headers["x-request-id"]);
    }
    auto failed = client.post(push_path("acc", "q"), "{nope");
    ids.push_back(failed.headers["x-request-id"]);
    auto chosen = client.post(push_path("acc", "q"), R"({"body":2})",
                              {{"Authorization", "Bearer t"}, {"X-Request-Id", "trace-42"}});
    EXPECT_EQ(chosen.headers["x-request-id"], "trace-42");
    ids.push_back("trace-42");
  }
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);
  std::istringstream lines(p.output());
  std::string line;
  std::vector<json::object> requests;
  int lines_seen = 0;
  int startup_lines = 0;
  while (std::getline(lines, line)) {
    ++lines_seen;
    json::value v = json::parse(line);  // every line is JSON
    ASSERT_TRUE(v.is_object()) << line;
    EXPECT_TRUE(v.as_object().contains("time"));
    EXPECT_TRUE(v.as_object().contains("level"));
    if (v.as_object().contains("request_id")) requests.push_back(v.as_object());
    if (v.as_object().contains("version")) {
      // The start-up line, once, with what an operator needs.
      EXPECT_EQ(v.at("version"), FLAREQ_VERSION);
      EXPECT_EQ(v.at("address").as_string(), "http://127.0.0.1:" + std::to_string(port));
      EXPECT_EQ(v.at("database"), ":memory:");
      EXPECT_EQ(v.at("mode"), "lenient");
      ++startup_lines;
    }
  }
  EXPECT_EQ(startup_lines, 1);
  ASSERT_EQ(requests.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_FALSE(ids[i].empty());
    EXPECT_EQ(requests[i].at("request_id").as_string(), ids[i]);
    EXPECT_EQ(requests[i].at("method"), "POST");
  }
  EXPECT_EQ(requests[5].at("status"), 400);
  EXPECT_EQ(requests[5].at("error_code"), 10208);  // the cause of an error is logged
  EXPECT_GE(lines_seen, 9);                        // start-up, 7 requests, stop lines
}

TEST(operations, healthcheck_subcommand) {
  process server(flareq_binary(), {"--lenient", "--port", "0", "--db", ":memory:"});
  std::uint16_t port = server.wait_for_port();
  ASSERT_NE(port, 0) << server.output();
  process ok(flareq_binary(), {"healthcheck", "--port", std::to_string(port)});
  EXPECT_EQ(ok.wait(), 0) << ok.output();
  process wildcard(flareq_binary(), {"healthcheck"},
                   {"FLAREQ_HOST=0.0.0.0", "FLAREQ_PORT=" + std::to_string(port)});
  EXPECT_EQ(wildcard.wait(), 0) << wildcard.output();
  server.send_signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
  process down(flareq_binary(), {"healthcheck", "--port", std::to_string(port)});
  EXPECT_EQ(down.wait(), 1);
  EXPECT_NE(down.output().find("healthcheck"), std::string::npos);
}

class inspection : public ::testing::Test {
 protected:
  inspection() : client(server.port()) {}
  json::value ok(std::string_view method, const std::string& target, std::string_view body = "") {
    auto r = client.request(method, target, body);
    EXPECT_EQ(r.status, 200u) << target << " -> " << r.body;
    return r.json();
  }
  test_server server{lenient};
  http_client client;
};

TEST_F(inspection, lists_every_queue_of_every_account_with_metrics) {
  client.post(push_path("a1", "q1"), R"({"body":"abc","content_type":"text"})");
  client.post(push_path("a2", "q2"), R"({"body":1})");
  client.post(push_path("a2", "q2"), R"({"body":22})");
  auto all = ok("GET", "/_flareq/queues").at("result").as_array();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].at("account_id"), "a1");
  EXPECT_EQ(all[0].at("queue_id"), "q1");
  EXPECT_EQ(all[0].at("metrics").at("backlog_bytes"), 3);
  EXPECT_EQ(all[1].at("account_id"), "a2");
  EXPECT_EQ(all[1].at("metrics").at("backlog_count"), 2);
}

TEST_F(inspection, shows_messages_in_every_state_paged) {
  const std::string base = "/client/v4/accounts/acc/queues/q";
  client.post(base + "/messages", R"({"body":"ready","content_type":"text"})");
  client.post(base + "/messages", R"({"body":{"later":true},"delay_seconds":60})");
  client.post(base + "/messages", R"({"body":"leased","content_type":"text"})");
  client.post(base + "/messages", R"({"body":"ready too","content_type":"text"})");
  // Leases "ready" then "leased": pull takes the two oldest ready ones.
  client.post(base + "/messages/pull", R"({"batch_size":2})");
  auto page = ok("GET", "/_flareq/queues/acc/q/messages?per_page=3");
  auto messages = page.at("result").as_array();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].at("state"), "leased");
  EXPECT_EQ(messages[0].at("attempts"), 1);
  EXPECT_EQ(messages[1].at("state"), "delayed");
  EXPECT_EQ(messages[1].at("body"), json::parse(R"({"later":true})"));
  EXPECT_EQ(messages[1].at("visible_at_ms"), test_epoch_us / 1000 + 60'000);
  EXPECT_EQ(messages[2].at("state"), "leased");
  EXPECT_EQ(page.at("result_info"),
            json::parse(R"({"page":1,"per_page":3,"count":3,"total_count":4,"total_pages":2})"));
  auto second = ok("GET", "/_flareq/queues/acc/q/messages?per_page=3&page=2").at("result");
  ASSERT_EQ(second.as_array().size(), 1u);
  EXPECT_EQ(second.at(0).at("state"), "ready");
  EXPECT_EQ(second.at(0).at("body"), "ready too");
  server.clock().advance_ms(60'000);
  EXPECT_EQ(ok("GET", "/_flareq/queues/acc/q/messages").at("result").at(1).at("state"), "ready");
  auto missing = client.request("GET", "/_flareq/queues/acc/nope/messages");
  EXPECT_EQ(missing.status, 404u);
}

// Inspection reads stored json as deep as push accepts it (128), not as a
// string past Boost's default depth of 32.
TEST_F(inspection, shows_deep_json_bodies_as_json) {
  std::string deep = std::string(127, '[') + "1.5" + std::string(127, ']');
  ASSERT_EQ(client.post(push_path("acc", "deep"), R"({"body":)" + deep + "}").status, 200u);
  auto r = client.request("GET", "/_flareq/queues/acc/deep/messages");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::parse_options options;
  options.max_depth = 200;
  json::value page = json::parse(r.body, {}, options);
  const json::value* body = &page.at("result").at(0).at("body");
  for (int depth = 0; depth < 127; ++depth) {
    ASSERT_TRUE(body->is_array()) << "at depth " << depth << ": " << r.body.substr(0, 200);
    body = &body->as_array().at(0);
  }
  EXPECT_EQ(body->as_double(), 1.5);
  // Numbers read as JavaScript writes them, as they are stored.
  EXPECT_NE(r.body.find("[1.5]"), std::string::npos) << r.body.substr(0, 400);
  EXPECT_EQ(r.body.find("E0"), std::string::npos);
}

TEST_F(inspection, reset_deletes_everything_and_says_how_much) {
  client.post(push_path("a1", "q1"), R"({"body":1})");
  client.post(push_path("a1", "q1"), R"({"body":2})");
  client.post(push_path("a2", "q2"), R"({"body":3})");
  client.post("/client/v4/accounts/a1/queues/q1/consumers", R"({"type":"http_pull"})");
  auto r = ok("POST", "/_flareq/reset");
  EXPECT_EQ(r.at("result"), json::parse(R"({"queues_deleted":2,"messages_deleted":3})"));
  EXPECT_EQ(ok("GET", "/_flareq/queues").at("result").as_array().size(), 0u);
  EXPECT_EQ(ok("POST", "/_flareq/reset").at("result"),
            json::parse(R"({"queues_deleted":0,"messages_deleted":0})"));
}

TEST_F(inspection, needs_credentials) {
  for (auto [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/_flareq/queues"},
                                                        {"GET", "/_flareq/queues/a/q/messages"},
                                                        {"POST", "/_flareq/reset"}}) {
    auto r = client.request(method, target, "", {});
    EXPECT_EQ(r.status, 400u) << target;
    EXPECT_EQ(r.json().at("errors").at(0).at("code"), 9106) << target;
  }
}

}  // namespace
}  // namespace flareq::test
