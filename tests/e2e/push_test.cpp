// The push endpoint on the real server at 127.0.0.1:0: metrics, delays,
// limits, every error this route can give, concurrency, restart, durability.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
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

constexpr std::int64_t start_ms = test_epoch_us / 1000;

std::string push_ok(std::int64_t bytes, std::int64_t count, std::int64_t oldest) {
  return R"({"success":true,"errors":[],"messages":[],"result":{"metadata":{"metrics":{"backlog_bytes":)" +
         std::to_string(bytes) + R"(,"backlog_count":)" + std::to_string(count) +
         R"(,"oldest_message_timestamp_ms":)" + std::to_string(oldest) + "}}}}";
}

// Counts the stored messages with a connection of our own (WAL lets it read
// while the server runs).
std::int64_t count_messages(const std::string& db_path, const std::string& where = "1") {
  storage::database db = storage::database::open(db_path);
  auto q = db.prepare("SELECT count(*) FROM messages WHERE " + where);
  q->step();
  return q->column_int64(0);
}

TEST(push_e2e, text_and_json_pushes_report_exact_metrics) {
  test_server server(lenient);
  http_client client(server.port());
  auto r1 = client.post(push_path("acc", "q1"), R"({"body":"hello","content_type":"text"})");
  EXPECT_EQ(r1.status, 200u);
  EXPECT_EQ(r1.headers["content-type"], "application/json");
  EXPECT_EQ(r1.body, push_ok(5, 1, start_ms));

  server.clock().advance_ms(1500);
  auto r2 = client.post(push_path("acc", "q1"), R"({"body":{"a": 1, "b": [true, null]}})");
  EXPECT_EQ(r2.status, 200u);
  EXPECT_EQ(r2.body, push_ok(5 + 23, 2, start_ms));  // {"a":1,"b":[true,null]}

  auto r3 = client.post(push_path("acc", "q1"),
                        R"({"body":"\u00e9t\u00e9","content_type":"text","delay_seconds":0})");
  EXPECT_EQ(r3.body, push_ok(5 + 23 + 5, 3, start_ms));  // "été" is 5 bytes

  // Another queue and another account start empty.
  server.clock().advance_ms(10);
  EXPECT_EQ(client.post(push_path("acc", "q2"), R"({"body":1})").body,
            push_ok(1, 1, start_ms + 1510));
  EXPECT_EQ(client.post(push_path("other", "q1"), R"({"body":"x","content_type":"text"})").body,
            push_ok(1, 1, start_ms + 1510));
}

TEST(push_e2e, answers_without_the_client_v4_prefix) {
  test_server server(lenient);
  http_client client(server.port());
  auto r = client.post("/accounts/acc/queues/q1/messages", R"({"body":"x","content_type":"text"})");
  EXPECT_EQ(r.body, push_ok(1, 1, start_ms));
  r = client.post("/client/v4/accounts/acc/queues/q1/messages?ignored=1", R"({"body":"y"})");
  EXPECT_EQ(r.body, push_ok(1 + 3, 2, start_ms));
}

TEST(push_e2e, accepts_the_global_key_pair) {
  test_server server(lenient);
  http_client client(server.port());
  auto r = client.post(push_path("acc", "q1"), R"({"body":1})",
                       {{"X-Auth-Email", "me@example.com"}, {"X-Auth-Key", "0123456789"}});
  EXPECT_EQ(r.status, 200u);
}

TEST(push_e2e, delayed_message_is_stored_with_its_delay_until_time) {
  test_server server(lenient);
  http_client client(server.port());
  ASSERT_EQ(
      client
          .post(push_path("acc", "q1"), R"({"body":"d","content_type":"text","delay_seconds":90})")
          .status,
      200u);
  server.stop();
  storage::database db = storage::database::open(server.db_path());
  auto q = db.prepare("SELECT timestamp_ms, delay_seconds, visible_at_ms FROM messages");
  ASSERT_TRUE(q->step());
  EXPECT_EQ(q->column_int64(0), start_ms);
  EXPECT_EQ(q->column_int64(1), 90);
  EXPECT_EQ(q->column_int64(2), start_ms + 90'000);
}

TEST(push_e2e, message_size_limit) {
  test_server server(lenient);
  http_client client(server.port());
  std::string at_limit(128'000, 'a');
  auto ok = client.post(push_path("acc", "q1"),
                        R"({"content_type":"text","body":")" + at_limit + R"("})");
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(ok.body, push_ok(128'000, 1, start_ms));

  auto too_big = client.post(push_path("acc", "q1"),
                             R"({"content_type":"text","body":")" + at_limit + R"(b"})");
  EXPECT_EQ(too_big.status, 413u);
  json::value v = too_big.json();
  EXPECT_EQ(v.at("success"), false);
  EXPECT_EQ(v.at("errors").at(0).at("code"), 10204);
  EXPECT_TRUE(v.at("result").is_null());
  EXPECT_EQ(count_messages(server.db_path()), 1);
}

struct error_case {
  std::string name;
  std::string method;
  std::string target;
  std::string body;
  header_list headers;
  unsigned status;
  std::string envelope;  // the whole body, exactly
};

std::string failure(const std::string& errors) {
  return R"({"success":false,"errors":[)" + errors + R"(],"messages":[],"result":null})";
}

std::string one(int code, const std::string& message) {
  return R"({"code":)" + std::to_string(code) + R"(,"message":")" + message + R"("})";
}

TEST(push_e2e, every_error_of_the_route) {
  test_server server([](config& c) { c.queues = {{"known", "known"}}; });
  http_client client(server.port());
  const std::string path = push_path("acc", "known");
  const std::string good = R"({"body":"x","content_type":"text"})";
  const std::string no_route_33 = "/accounts/acc/queues/" + std::string(33, 'q') + "/messages";
  std::vector<error_case> cases = {
      {"no credentials",
       "POST",
       path,
       good,
       {},
       400,
       failure(one(9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"))},
      {"credentials before route",
       "POST",
       "/client/v4" + no_route_33,
       good,
       {},
       400,
       failure(one(9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"))},
      {"basic auth",
       "POST",
       path,
       good,
       {{"Authorization", "Basic dXNlcjpwYXNz"}},
       400,
       failure(R"({"code":6003,"message":"Invalid request headers","error_chain":[)" +
               one(6111, "Invalid format for Authorization header") + "]}")},
      {"empty bearer",
       "POST",
       path,
       good,
       {{"Authorization", "Bearer"}},
       400,
       failure(R"({"code":6003,"message":"Invalid request headers","error_chain":[)" +
               one(6111, "Invalid format for Authorization header") + "]}")},
      {"email without key",
       "POST",
       path,
       good,
       {{"X-Auth-Email", "me@example.com"}},
       400,
       failure(R"({"code":6003,"message":"Invalid request headers","error_chain":[)" +
               one(6103, "Invalid format for X-Auth-Key header") + "]}")},
      {"key without email",
       "POST",
       path,
       good,
       {{"X-Auth-Key", "k"}},
       400,
       failure(R"({"code":6003,"message":"Invalid request headers","error_chain":[)" +
               one(6102, "Invalid format for X-Auth-Email header") + "]}")},
      {"queue id of 33", "POST", "/client/v4" + no_route_33, good, bearer(), 400,
       failure(one(10107,
                   "Malformed queue ID: a queue id is 1 to 32 characters of "
                   "[A-Za-z0-9_-]"))},
      {"bad account id", "POST", "/client/v4/accounts/a.b/queues/known/messages", good, bearer(),
       400,
       failure(one(7003,
                   "Could not route to /accounts/a.b/queues/known/messages, perhaps your object "
                   "identifier is invalid?") +
               "," + one(7000, "No route for that URI"))},
      {"unknown path", "GET", "/client/v4/nothing/here", "", bearer(), 400,
       failure(one(7003,
                   "Could not route to /nothing/here, perhaps your object identifier is "
                   "invalid?") +
               "," + one(7000, "No route for that URI"))},
      {"wrong method", "GET", path, "", bearer(), 405, failure(one(10405, "Method not allowed"))},
      {"wrong method DELETE", "DELETE", path, "", bearer(), 405,
       failure(one(10405, "Method not allowed"))},
      {"not json", "POST", path, "{nope", bearer(), 400,
       failure(one(10208, "Request body is not valid JSON: syntax error"))},
      {"empty body", "POST", path, "", bearer(), 400,
       failure(one(10208, "Request body is not valid JSON: incomplete JSON"))},
      {"missing body", "POST", path, R"({"content_type":"text"})", bearer(), 400,
       failure(one(10207, "Request body does not match the expected schema: body is required"))},
      {"text body not a string", "POST", path, R"({"content_type":"text","body":{"a":1}})",
       bearer(), 400,
       failure(one(10207,
                   "Request body does not match the expected schema: body must be a "
                   "string when content_type is \\\"text\\\""))},
      {"array body", "POST", path, R"([{"body":1}])", bearer(), 400,
       failure(one(10207,
                   "Request body does not match the expected schema: a message must be "
                   "a JSON object"))},
      {"bad content_type", "POST", path, R"({"body":"x","content_type":"bytes"})", bearer(), 400,
       failure(one(10203,
                   "Message metadata is invalid: content_type must be \\\"text\\\" or "
                   "\\\"json\\\""))},
      {"negative delay", "POST", path, R"({"body":"x","delay_seconds":-1})", bearer(), 400,
       failure(one(10203,
                   "Message metadata is invalid: delay_seconds must be a whole number "
                   "from 0 to 86400"))},
      {"delay too long", "POST", path, R"({"body":"x","delay_seconds":86401})", bearer(), 400,
       failure(one(10203,
                   "Message metadata is invalid: delay_seconds must be a whole number "
                   "from 0 to 86400"))},
      {"delay as string", "POST", path, R"({"body":"x","delay_seconds":"10"})", bearer(), 400,
       failure(one(10203,
                   "Message metadata is invalid: delay_seconds must be a whole number "
                   "from 0 to 86400"))},
      {"message too large", "POST", path,
       R"({"content_type":"text","body":")" + std::string(128'001, 'z') + R"("})", bearer(), 413,
       failure(one(10204, "Message is larger than 128000 bytes: the body is 128001 bytes"))},
      {"unknown queue (strict, the default)", "POST", push_path("acc", "unknown"), good, bearer(),
       404,
       failure(one(10104,
                   "Queue does not exist: no queue has id unknown in this account (the URL takes "
                   "a queue's id, not its name). Create the queue (POST "
                   "/accounts/{account_id}/queues, or wrangler queues create) and use the "
                   "queue_id it returns, declare it at start-up (--queue NAME=ID, or the config "
                   "file), or run flareq with --lenient to create queues on their first push"))},
  };
  for (const auto& c : cases) {
    auto r = client.request(c.method, c.target, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name;
    EXPECT_EQ(r.headers["content-type"], "application/json") << c.name;
    EXPECT_EQ(r.body, c.envelope) << c.name;
  }
  // Nothing was stored by any of them, and the server still serves.
  EXPECT_EQ(count_messages(server.db_path()), 0);
  EXPECT_EQ(client.post(path, good).body, push_ok(1, 1, start_ms));
}

TEST(push_e2e, configured_tokens) {
  test_server server([](config& c) {
    c.lenient = true;
    c.api_tokens = {"secret-1", "secret-2"};
  });
  http_client client(server.port());
  auto denied = client.post(push_path("acc", "q"), R"({"body":1})", bearer("wrong"));
  EXPECT_EQ(denied.status, 403u);
  EXPECT_EQ(denied.body, failure(one(10000, "Authentication error")));
  auto key_pair = client.post(push_path("acc", "q"), R"({"body":1})",
                              {{"X-Auth-Email", "e@x.com"}, {"X-Auth-Key", "k"}});
  EXPECT_EQ(key_pair.status, 403u);
  EXPECT_EQ(count_messages(server.db_path()), 0);
  EXPECT_EQ(client.post(push_path("acc", "q"), R"({"body":1})", bearer("secret-2")).status, 200u);
  // Health and readiness need no credentials, even then.
  EXPECT_EQ(client.request("GET", "/healthz", "", {}).status, 200u);
  EXPECT_EQ(client.request("GET", "/readyz", "", {}).status, 200u);
}

TEST(push_e2e, request_body_over_the_transport_limit) {
  test_server server([](config& c) {
    c.lenient = true;
    c.max_body_bytes = 256 * 1024;
  });
  std::string big = R"({"body":")" + std::string(300 * 1024, 'x') + R"("})";
  http_client client(server.port());
  auto r = client.post(push_path("acc", "q1"), big);
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(r.body, failure(one(10205,
                                "Request body is larger than the server accepts: the "
                                "limit is 262144 bytes")));
  EXPECT_EQ(count_messages(server.db_path()), 0);
  http_client again(server.port());
  EXPECT_EQ(again.post(push_path("acc", "q1"), R"({"body":1})").status, 200u);
}

// A declared queue deleted through the API stays deleted, reset included,
// until the next start; other accounts keep theirs.
TEST(push_e2e, a_deleted_declared_queue_stays_deleted_until_the_next_start) {
  test_server server([](config& c) { c.queues = {{"orders", "orders"}}; });
  http_client client(server.port());
  const std::string queue = "/client/v4/accounts/acc/queues/orders";
  EXPECT_EQ(client.post(push_path("acc", "orders"), R"({"body":1})").status, 200u);
  EXPECT_EQ(client.request("DELETE", queue, "").status, 200u);
  EXPECT_EQ(client.request("GET", queue, "").status, 404u);
  auto r = client.post(push_path("acc", "orders"), R"({"body":1})");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.json().at("errors").at(0).at("code"), 10104);
  EXPECT_EQ(client.post("/_flareq/reset", "").status, 200u);
  EXPECT_EQ(client.request("GET", queue, "").status, 404u);
  EXPECT_EQ(client.post(push_path("other", "orders"), R"({"body":1})").status, 200u);
  server.restart();
  http_client again(server.port());
  EXPECT_EQ(again.request("GET", queue, "").status, 200u);
  EXPECT_EQ(again.post(push_path("acc", "orders"), R"({"body":1})").status, 200u);
}

TEST(push_e2e, auto_created_queue_name_conflict_is_409) {
  test_server server([](config& c) {
    c.lenient = true;
    c.queues = {{"jobs", "jobid"}};
  });
  http_client client(server.port());
  EXPECT_EQ(client.post(push_path("acc", "jobid"), R"({"body":1})").status, 200u);
  auto r = client.post(push_path("acc", "jobs"), R"({"body":1})");
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.json().at("errors").at(0).at("code"), 11009);
  EXPECT_EQ(count_messages(server.db_path()), 1);
}

TEST(push_e2e, storage_failure_is_500_and_the_server_keeps_serving) {
  test_server server(lenient);
  http_client client(server.port());
  ASSERT_EQ(client.post(push_path("acc", "q1"), R"({"body":"fine","content_type":"text"})").status,
            200u);
  {
    storage::database outside = storage::database::open(server.db_path());
    outside.exec(
        "CREATE TRIGGER inject BEFORE INSERT ON messages WHEN NEW.body = 'explode' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  }
  auto r = client.post(push_path("acc", "q1"), R"({"body":"explode","content_type":"text"})");
  EXPECT_EQ(r.status, 500u);
  json::value v = r.json();
  EXPECT_EQ(v.at("errors").at(0).at("code"), 15000);
  EXPECT_TRUE(std::string(v.at("errors").at(0).at("message").as_string())
                  .starts_with("Unknown internal error: "));
  EXPECT_TRUE(v.at("result").is_null());
  EXPECT_EQ(client.post(push_path("acc", "q1"), R"({"body":"again","content_type":"text"})").body,
            push_ok(4 + 5, 2, start_ms));
  EXPECT_EQ(count_messages(server.db_path()), 2);
}

TEST(push_e2e, health_and_readiness) {
  test_server server(lenient);
  http_client client(server.port());
  auto h = client.request("GET", "/healthz", "", {});
  EXPECT_EQ(h.status, 200u);
  EXPECT_EQ(h.body, R"({"success":true,"errors":[],"messages":[],"result":{"status":"ok"}})");
  auto r = client.request("GET", "/readyz", "", {});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"success":true,"errors":[],"messages":[],"result":{"status":"ready"}})");
  EXPECT_EQ(client.request("POST", "/healthz", "", {}).status, 400u);  // credentials first
  EXPECT_EQ(client.request("POST", "/healthz", "").status, 405u);
}

TEST(push_e2e, expect_100_continue_is_answered) {
  test_server server(lenient);
  std::string body = R"({"body":"x","content_type":"text"})";
  std::string request = "POST " + push_path("acc", "q1") +
                        " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
                        "Expect: 100-continue\r\nConnection: close\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string answer = raw_exchange(server.port(), request);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 100 Continue\r\n")) << answer;
  EXPECT_NE(answer.find("HTTP/1.1 200 OK"), std::string::npos) << answer;
}

TEST(push_e2e, hundred_clients_times_hundred_pushes) {
  test_server server(lenient);
  constexpr int clients = 100;
  constexpr int pushes = 100;
  std::atomic<int> ok{0};
  std::atomic<std::int64_t> max_count{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      http_client client(server.port());
      for (int i = 0; i < pushes; ++i) {
        auto r = client.post(push_path("acc", "load"), R"({"content_type":"text","body":"c)" +
                                                           std::to_string(c) + "-" +
                                                           std::to_string(i) + R"("})");
        if (r.status != 200) continue;
        ok++;
        std::int64_t n =
            r.json().at("result").at("metadata").at("metrics").at("backlog_count").as_int64();
        std::int64_t seen = max_count.load();
        while (n > seen && !max_count.compare_exchange_weak(seen, n)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), clients * pushes);
  EXPECT_EQ(max_count.load(), clients * pushes);
  EXPECT_EQ(count_messages(server.db_path()), clients * pushes);
  http_client client(server.port());
  auto last = client.post(push_path("acc", "load"), R"({"body":1})").json();
  EXPECT_EQ(last.at("result").at("metadata").at("metrics").at("backlog_count"),
            clients * pushes + 1);
}

TEST(push_e2e, restart_keeps_messages_and_metrics) {
  test_server server(lenient);
  {
    http_client client(server.port());
    client.post(push_path("acc", "q1"), R"({"body":"one","content_type":"text"})");
    server.clock().advance_ms(100);
    client.post(push_path("acc", "q1"), R"({"body":"two","content_type":"text"})");
    client.post(push_path("acc", "q2"), R"({"body":[1,2]})");
  }
  server.restart();
  http_client client(server.port());
  EXPECT_EQ(client.post(push_path("acc", "q1"), R"({"body":"3","content_type":"text"})").body,
            push_ok(7, 3, start_ms));
  EXPECT_EQ(client.post(push_path("acc", "q2"), R"({"body":"x","content_type":"text"})").body,
            push_ok(6, 2, start_ms + 100));
}

TEST(push_e2e, every_acknowledged_push_is_in_the_database_file) {
  test_server server(lenient);
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      http_client client(server.port());
      for (int i = 0; i < 50; ++i) {
        std::string body = "durable-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = client.post(push_path("acc", "d"),
                             R"({"content_type":"text","body":")" + body + R"("})");
        if (r.status == 200) {
          std::lock_guard lock(mutex);
          acknowledged.insert(body);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(acknowledged.size(), 400u);
  server.stop();
  storage::database db = storage::database::open(server.db_path());
  auto q = db.prepare(
      "SELECT body FROM messages JOIN queues USING (qkey) WHERE account_id = 'acc' AND "
      "queue_id = 'd'");
  std::set<std::string> stored;
  while (q->step()) stored.insert(std::string(q->column_text(0)));
  EXPECT_EQ(stored, acknowledged);
}

}  // namespace
}  // namespace flareq::test
