// Hostile input over real sockets: malformed HTTP, odd paths, bad JSON,
// limits, credentials, chunked and pipelined requests, clients that vanish.
// Each case gets its documented answer or a clean close; afterwards the
// server still serves and the stored data is exactly as it was.
#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <string>
#include <vector>

#include "storage/database.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_server.hpp"

namespace flareq::test {
namespace {

const std::string P = "/client/v4/accounts/acc/queues/q/messages";
const std::string Q = "/client/v4/accounts/acc/queues";
const std::string auth = "Authorization: Bearer t\r\n";

// A request with a Content-Length for body.
std::string req(const std::string& method, const std::string& target, const std::string& body,
                const std::string& headers = auth) {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}
std::string post(const std::string& target, const std::string& body) {
  return req("POST", target, body);
}

struct hostile_case {
  std::string name;
  std::string bytes;
  std::string expect;  // "400", "close", or alternatives "400|close"
  int code = 0;        // the Cloudflare error code, when a body is expected
};

// The status of the first answer, or "close" when the server answered nothing.
std::string outcome(const std::string& answer) {
  if (answer.empty()) return "close";
  if (!answer.starts_with("HTTP/1.")) return "garbage";
  return answer.substr(9, 3);
}

std::string fingerprint(const std::string& db_path) {
  storage::database db = storage::database::open(db_path);
  auto q = db.prepare(
      "SELECT count(*), coalesce(sum(size_bytes), 0), coalesce(group_concat(id), '') FROM "
      "messages");
  q->step();
  auto queues = db.prepare("SELECT count(*) FROM queues");
  queues->step();
  return std::to_string(q->column_int64(0)) + "/" + std::to_string(q->column_int64(1)) + "/" +
         std::string(q->column_text(2)) + "/" + std::to_string(queues->column_int64(0));
}

std::vector<hostile_case> cases() {
  std::string deep_arrays = "{\"body\":" + std::string(100'000, '[') + "}";
  std::string deep_objects;
  for (int i = 0; i < 100'000; ++i) deep_objects += "{\"a\":";
  boost::json::array many;
  for (int i = 0; i < 101; ++i) many.push_back(boost::json::object{{"body", i}});
  boost::json::array heavy;
  for (int i = 0; i < 3; ++i) {
    heavy.push_back(
        boost::json::object{{"body", std::string(100'000, 'h')}, {"content_type", "text"}});
  }
  std::string many_headers;
  for (int i = 0; i < 2000; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";

  return {
      // Malformed and truncated HTTP.
      {"garbage line", "GARBAGE\r\n\r\n", "400|close"},
      {"method only", "GET\r\n\r\n", "400|close"},
      {"bad version", "POST " + P + " HTTP/9.9\r\n\r\n", "400|close"},
      {"truncated request line", "POST /client/v4", "close"},
      {"truncated headers", "POST " + P + " HTTP/1.1\r\nHost: x\r\nAuthor", "close"},
      {"header without colon", "POST " + P + " HTTP/1.1\r\nHost x\r\n\r\n", "400|close"},
      {"content-length not a number", "POST " + P + " HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
       "400|close"},
      {"negative content-length", "POST " + P + " HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
       "400|close"},
      {"two content-lengths",
       "POST " + P + " HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "400|close"},
      {"content-length and chunked",
       "POST " + P + " HTTP/1.1\r\n" + auth +
           "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
       "400|close"},
      {"bad chunk size",
       "POST " + P + " HTTP/1.1\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", "close"},
      {"NUL in path", "POST /client/v4/accounts/a\0b/queues/q/messages HTTP/1.1\r\n\r\n",
       "400|close"},
      {"NUL in header", "POST " + P + " HTTP/1.1\r\nAuthorization: Bearer a\0b\r\n\r\n",
       "400|close"},
      {"control character in path", "POST /client/v4/acc\x01 HTTP/1.1\r\n\r\n", "400|close"},
      {"client vanishes mid-body",
       "POST " + P + " HTTP/1.1\r\n" + auth + "Content-Length: 100\r\n\r\n{\"body\":", "close"},
      // Huge and duplicate headers.
      {"huge header", req("POST", P, "{}", auth + "X-Big: " + std::string(20'000, 'b') + "\r\n"),
       "431", 6003},
      {"two thousand headers", req("POST", P, "{}", auth + many_headers), "431", 6003},
      {"duplicate authorization", req("POST", P, R"({"body":1})", auth + auth), "400", 6003},
      {"duplicate x-auth-key",
       req("POST", P, R"({"body":1})", "X-Auth-Email: e@x\r\nX-Auth-Key: k\r\nX-Auth-Key: j\r\n"),
       "400", 6003},
      {"no credentials", req("POST", P, R"({"body":1})", ""), "400", 9106},
      {"basic credentials", req("POST", P, R"({"body":1})", "Authorization: Basic YTpi\r\n"), "400",
       6003},
      {"bearer with control character",
       req("POST", P, R"({"body":1})", "Authorization: Bearer a\x01b\r\n"), "400|close"},
      // Percent-encoding, traversal, odd targets.
      {"bad percent-encoding", post("/client/v4/accounts/%zz/queues/q/messages", R"({"body":1})"),
       "400", 7003},
      {"encoded slash", post("/client/v4/accounts/a%2Fb/queues/q/messages", R"({"body":1})"), "400",
       7003},
      {"dot-dot account", post("/client/v4/accounts/../queues/q/messages", R"({"body":1})"), "400",
       7003},
      {"traversal", post("/client/v4/accounts/a/queues/../../../etc/passwd", R"({"body":1})"),
       "400", 7003},
      {"empty account", post("/client/v4/accounts//queues/q/messages", R"({"body":1})"), "400",
       7003},
      {"empty queue", post("/client/v4/accounts/a/queues//messages", R"({"body":1})"), "400", 7003},
      {"33-character queue",
       post("/client/v4/accounts/a/queues/" + std::string(33, 'q') + "/messages", R"({"body":1})"),
       "400", 7003},
      {"33-character account",
       post("/client/v4/accounts/" + std::string(33, 'a') + "/queues/q/messages", R"({"body":1})"),
       "400", 7003},
      {"long path", post("/client/v4/" + std::string(8000, 'p'), R"({"body":1})"), "400", 7003},
      {"unicode in id", post("/client/v4/accounts/\xc3\xa9/queues/q/messages", R"({"body":1})"),
       "400", 7003},
      {"absolute-form target", post("http://x" + P, R"({"body":1})"), "400", 7003},
      {"asterisk target", post("*", R"({"body":1})"), "400", 7003},
      {"unknown method", req("FOO", P, R"({"body":1})"), "405", 10405},
      {"lower-case method", req("post", P, R"({"body":1})"), "405", 10405},
      {"garbage query with bad body", post(P + "?%%%&&==&a=%zz", "{}"), "400", 10207},
      // JSON bodies.
      {"invalid UTF-8 in JSON", post(P, "{\"body\":\"\xff\xfe\"}"), "400", 10208},
      {"overlong UTF-8", post(P, "{\"body\":\"\xc0\xaf\",\"content_type\":\"text\"}"), "400",
       10208},
      {"lone surrogate escape", post(P, R"({"body":"\ud800","content_type":"text"})"), "400",
       10208},
      {"raw NUL in JSON", post(P, std::string("{\"body\":\"a\0b\"}", 14)), "400", 10208},
      {"100,000 nested arrays", post(P, deep_arrays), "400", 10208},
      {"100,000 nested objects", post(P, deep_objects), "400", 10208},
      {"number overflow", post(P, R"({"body":1e400})"), "400", 10208},
      {"huge delay", post(P, R"({"body":1,"delay_seconds":99999999999999999999999})"), "400",
       10203},
      {"fractional delay", post(P, R"({"body":1,"delay_seconds":1.0000001})"), "400", 10203},
      {"boolean delay", post(P, R"({"body":1,"delay_seconds":true})"), "400", 10203},
      {"upper-case content_type", post(P, R"({"body":"x","content_type":"TEXT"})"), "400", 10203},
      {"numeric content_type", post(P, R"({"body":"x","content_type":5})"), "400", 10203},
      {"bytes content_type", post(P, R"({"body":"x","content_type":"bytes"})"), "400", 10203},
      {"no body key", post(P, R"({"content_type":"json"})"), "400", 10207},
      {"object as text", post(P, R"({"body":{},"content_type":"text"})"), "400", 10207},
      {"top-level array", post(P, R"([{"body":1}])"), "400", 10207},
      {"top-level string", post(P, R"("body")"), "400", 10207},
      {"empty body", post(P, ""), "400", 10208},
      {"whitespace body", post(P, "   \n "), "400", 10208},
      {"trailing garbage", post(P, R"({"body":1} x)"), "400", 10208},
      {"two documents", post(P, R"({"body":1}{"body":2})"), "400", 10208},
      {"byte-order mark", post(P, "\xef\xbb\xbf{\"body\":1}"), "400", 10208},
      {"single quotes", post(P, "{'body':1}"), "400", 10208},
      // Limits.
      {"body over the transport limit",
       post(P, "{\"body\":\"" + std::string(1024 * 1024 + 10, 'x') + "\"}"), "413", 10205},
      {"message over 128,000 bytes",
       post(P, R"({"content_type":"text","body":")" + std::string(128'001, 'm') + "\"}"), "413",
       10204},
      {"batch of 101", post(P + "/batch", "{\"messages\":" + boost::json::serialize(many) + "}"),
       "400", 10206},
      {"batch over 256,000 bytes",
       post(P + "/batch", "{\"messages\":" + boost::json::serialize(heavy) + "}"), "413", 10205},
      {"batch messages not a list", post(P + "/batch", R"({"messages":{"body":1}})"), "400", 10207},
      {"expect-continue over the limit",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
           "Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n",
       "413", 10205},
      // Other routes' bodies.
      {"pull batch of 1000", post(P + "/pull", R"({"batch_size":1000})"), "400", 10207},
      {"pull negative timeout", post(P + "/pull", R"({"visibility_timeout_ms":-1})"), "400", 10207},
      {"ack list of numbers", post(P + "/ack", R"({"acks":[1,2]})"), "400", 10207},
      {"retry delay too long",
       post(P + "/ack", R"({"retries":[{"lease_id":"x","delay_seconds":1e9}]})"), "400", 10203},
      {"queue name with unicode", post(Q, R"({"queue_name":"caf\u00e9"})"), "400", 11003},
      {"queue retention 0",
       post(Q, R"({"queue_name":"ok","settings":{"message_retention_period":0}})"), "400", 10026},
      {"consumer without type", post(Q + "/q/consumers", "{}"), "400", 10026},
      // Chunked bodies are read like any other.
      {"chunked invalid JSON",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n{nop\r\n0\r\n\r\n",
       "400", 10208},
      {"HTTP/1.0 without host",
       "POST " + P + " HTTP/1.0\r\n" + auth + "Content-Length: 2\r\n\r\n{}", "400", 10207},
  };
}

TEST(hostile, every_case_gets_its_answer_and_nothing_changes) {
  test_server server([](config& c) { c.max_body_bytes = 1024 * 1024; });
  http_client client(server.port());
  // Some data to keep.
  ASSERT_EQ(client.post(P, R"({"body":"keep me","content_type":"text"})").status, 200u);
  ASSERT_EQ(client.post(P, R"({"body":{"and":"me"}})").status, 200u);
  std::string before = fingerprint(server.db_path());
  auto all = cases();
  ASSERT_GE(all.size(), 60u);
  for (const auto& c : all) {
    std::string answer = raw_exchange(server.port(), c.bytes);
    std::string got = outcome(answer);
    std::string wanted = "|" + c.expect + "|";
    EXPECT_NE(wanted.find("|" + got + "|"), std::string::npos)
        << c.name << ": got " << got << " wanted " << c.expect << "\n"
        << answer.substr(0, 300);
    if (c.code != 0 && got != "close") {
      EXPECT_NE(answer.find("\"code\":" + std::to_string(c.code)), std::string::npos)
          << c.name << "\n"
          << answer.substr(0, 400);
      EXPECT_NE(answer.find("\"success\":false"), std::string::npos) << c.name;
    }
    // Still serving.
    EXPECT_EQ(http_client(server.port()).request("GET", "/healthz", "", {}).status, 200u) << c.name;
  }
  EXPECT_EQ(fingerprint(server.db_path()), before);
}

TEST(hostile, pipelined_requests_are_answered_in_order) {
  test_server server;
  std::string one = "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 2\r\n\r\n{}";
  std::string two = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string three = "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
                      "Content-Length: 5\r\nConnection: close\r\n\r\n{nop}";
  std::string answer = raw_exchange(server.port(), one + two + three);
  auto first = answer.find("HTTP/1.1 400");
  auto second = answer.find("HTTP/1.1 200", first);
  auto third = answer.find("HTTP/1.1 400", second);
  EXPECT_NE(first, std::string::npos) << answer;
  EXPECT_NE(second, std::string::npos) << answer;
  EXPECT_NE(third, std::string::npos) << answer;
  EXPECT_NE(answer.find("10207"), std::string::npos);
  EXPECT_NE(answer.find("10208"), std::string::npos);
}

TEST(hostile, chunked_push_is_stored) {
  test_server server;
  std::string body = R"({"body":"chunked","content_type":"text"})";
  std::string chunked = "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
                        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + "a\r\n" +
                        body.substr(0, 10) + "\r\n" +
                        [&] {
                          char size[16];
                          std::snprintf(size, sizeof size, "%zx", body.size() - 10);
                          return std::string(size);
                        }() +
                        "\r\n" + body.substr(10) + "\r\n0\r\n\r\n";
  std::string answer = raw_exchange(server.port(), chunked);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  EXPECT_NE(answer.find("\"backlog_bytes\":7"), std::string::npos) << answer;
}

}  // namespace
}  // namespace flareq::test

namespace flareq::test {
namespace {

// With tokens configured, every route but health and readiness refuses a
// request without a valid token, and none of those requests touches storage.
TEST(hostile, every_route_needs_a_valid_token) {
  test_server server([](config& c) { c.api_tokens = {"the-token"}; });
  http_client client(server.port());
  ASSERT_EQ(client.post(P, R"({"body":"keep"})", bearer("the-token")).status, 200u);
  std::string before = fingerprint(server.db_path());
  const std::string q = Q + "/q";
  const std::string c = q + "/consumers/0123456789abcdef0123456789abcdef";
  std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", Q},
      {"POST", Q},
      {"GET", q},
      {"PUT", q},
      {"PATCH", q},
      {"DELETE", q},
      {"GET", q + "/metrics"},
      {"POST", P},
      {"POST", P + "/batch"},
      {"POST", P + "/pull"},
      {"POST", P + "/ack"},
      {"POST", P + "/peek"},
      {"POST", P + "/purge"},
      {"POST", q + "/purge"},
      {"GET", q + "/purge"},
      {"GET", q + "/consumers"},
      {"POST", q + "/consumers"},
      {"GET", c},
      {"PUT", c},
      {"DELETE", c},
      {"GET", "/_flareq/queues"},
      {"GET", "/_flareq/queues/acc/q/messages"},
      {"POST", "/_flareq/reset"},
  };
  const std::string body =
      R"({"queue_name":"x","type":"http_pull","body":1,"messages":[{"body":1}],)"
      R"("delete_messages_permanently":true})";
  for (const auto& [method, target] : routes) {
    auto none = client.request(method, target, body, {});
    EXPECT_EQ(none.status, 400u) << method << " " << target;
    EXPECT_EQ(none.json().at("errors").at(0).at("code"), 9106) << method << " " << target;
    auto wrong = client.request(method, target, body, bearer("not-the-token"));
    EXPECT_EQ(wrong.status, 403u) << method << " " << target;
    EXPECT_EQ(wrong.json().at("errors").at(0).at("code"), 10000) << method << " " << target;
    auto keyed = client.request(method, target, body,
                                {{"X-Auth-Email", "e@x.com"}, {"X-Auth-Key", "global-key"}});
    EXPECT_EQ(keyed.status, 403u) << method << " " << target;
  }
  EXPECT_EQ(fingerprint(server.db_path()), before);
  EXPECT_EQ(client.request("GET", "/healthz", "", {}).status, 200u);
  EXPECT_EQ(client.request("GET", "/readyz", "", {}).status, 200u);
}

}  // namespace
}  // namespace flareq::test
