// Hostile input over real sockets: malformed HTTP, odd paths, bad JSON,
// limits, credentials, chunked and pipelined requests, clients that vanish.
// Each case gets its documented answer or a clean close; afterwards the
// server still serves and the stored data is exactly as it was.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "storage/database.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
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
      "SELECT count(*), coalesce(sum(size_bytes), 0), coalesce(group_concat(seq || ':' || "
      "id_tail), '') FROM messages");
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
      // Framing (RFC 9112 §6): answered 400 with the envelope, then closed.
      {"content-length not a number",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "400", 6003},
      {"negative content-length",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", "400", 6003},
      {"two differing content-lengths",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
       "400", 6003},
      {"content-length and chunked",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
           "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
       "400", 6003},
      {"bad chunk size",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
       "400", 6003},
      {"transfer-encoding gzip",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: gzip\r\n\r\n", "400",
       6003},
      {"transfer-encoding chunked, gzip",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: chunked, gzip\r\n\r\n",
       "400", 6003},
      {"no Host in HTTP/1.1", "POST " + P + " HTTP/1.1\r\n" + auth + "Content-Length: 2\r\n\r\n{}",
       "400", 6003},
      {"two Hosts",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\nHost: y\r\n" + auth + "Content-Length: 2\r\n\r\n{}",
       "400", 6003},
      {"empty lines before the request line", "\r\n\n\r\n" + post(P, "{}"), "400", 10207},
      {"NUL in path", "POST /client/v4/accounts/a\0b/queues/q/messages HTTP/1.1\r\n\r\n",
       "400|close"},
      {"NUL in header", "POST " + P + " HTTP/1.1\r\nAuthorization: Bearer a\0b\r\n\r\n",
       "400|close"},
      {"control character in path", "POST /client/v4/acc\x01 HTTP/1.1\r\n\r\n", "400|close"},
      {"client vanishes mid-body",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 100\r\n\r\n{\"body\":",
       "close"},
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
      {"empty queue", post("/client/v4/accounts/a/queues//messages", R"({"body":1})"), "400",
       10107},
      {"33-character queue",
       post("/client/v4/accounts/a/queues/" + std::string(33, 'q') + "/messages", R"({"body":1})"),
       "400", 10107},
      {"33-character account",
       post("/client/v4/accounts/" + std::string(33, 'a') + "/queues/q/messages", R"({"body":1})"),
       "400", 7003},
      {"long path", post("/client/v4/" + std::string(8000, 'p'), R"({"body":1})"), "400", 7003},
      {"unicode in id", post("/client/v4/accounts/\xc3\xa9/queues/q/messages", R"({"body":1})"),
       "400", 7003},
      // Absolute form is routed like the origin form (RFC 9112 §3.2.2).
      {"absolute-form target", post("http://x" + P, "{}"), "400", 10207},
      {"absolute-form target, https", post("HTTPS://x:1" + P + "?a=b", "{}"), "400", 10207},
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
       post(Q, R"({"queue_name":"ok","settings":{"message_retention_period":0}})"), "400", 100128},
      {"consumer without type", post(Q + "/q/consumers", "{}"), "400", 10026},
      // Chunked bodies are read like any other.
      {"chunked invalid JSON",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n{nop\r\n0\r\n\r\n",
       "400", 10208},
      {"HTTP/1.0 with transfer-encoding",
       "POST " + P + " HTTP/1.0\r\n" + auth +
           "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n2\r\n{}\r\n0\r\n\r\n" +
           "GET /healthz HTTP/1.0\r\n\r\n",
       "400", 6003},
      {"70 kB trailer field",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
           "Transfer-Encoding: chunked\r\n\r\nc\r\n{\"body\":\"x\"}\r\n0\r\nX-T: " +
           std::string(70'000, 't') + "\r\n\r\n",
       "400", 6003},
      {"200 kB of trailer fields",
       "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
           "Transfer-Encoding: chunked\r\n\r\nc\r\n{\"body\":\"x\"}\r\n0\r\n" +
           [] {
             std::string t;
             for (int i = 0; i < 20'000; ++i) t += "X-T" + std::to_string(i) + ": v\r\n";
             return t;
           }() +
           "\r\n",
       "400", 6003},
      {"HTTP/1.0 without host",
       "POST " + P + " HTTP/1.0\r\n" + auth + "Content-Length: 2\r\n\r\n{}", "400", 10207},
  };
}

TEST(hostile, every_case_gets_its_answer_and_nothing_changes) {
  test_server server([](config& c) {
    c.lenient = true;
    c.max_body_bytes = 1024 * 1024;
  });
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
    // One answer at most: nothing after an error is read as a request.
    if (got == "400" || got == "413" || got == "431") {
      auto second = answer.find("\r\nServer: flareq/");
      if (second != std::string::npos) second = answer.find("\r\nServer: flareq/", second + 1);
      EXPECT_EQ(second, std::string::npos) << c.name << "\n" << answer;
    }
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
  test_server server(lenient);
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
  test_server server(lenient);
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
  test_server server([](config& c) {
    c.lenient = true;
    c.api_tokens = {"the-token"};
  });
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

// ---- transport: RFC 9110 / 9112, signals, descriptors, the process -------------

namespace flareq::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One client connection driven step by step.
class raw_connection {
 public:
  explicit raw_connection(std::uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  // Sends everything; false when the server reset or closed the connection.
  bool send(std::string_view bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }
  void half_close() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
  }
  // Reads until text has arrived (true) or the server closed (false).
  bool read_until(std::string_view text) {
    while (received_.find(text) == std::string::npos) {
      char chunk[4096];
      boost::system::error_code ec;
      std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
      received_.append(chunk, n);
      if (ec) return received_.find(text) != std::string::npos;
    }
    return true;
  }
  // Reads until the server closes.
  const std::string& read_all() {
    read_until(std::string_view("\x01\x02 never sent"));
    return received_;
  }
  const std::string& received() const { return received_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  std::string received_;
};

int count_of(const std::string& text, std::string_view what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Trailer fields are not request headers (RFC 9110 §6.5.1): a credential
// or a request id in a trailer counts for nothing.
TEST(transport, trailer_fields_never_count_as_headers) {
  test_server server([](config& c) {
    c.lenient = true;
    c.api_tokens = {"the-token"};
  });
  std::string body = R"({"body":"x"})";
  std::string chunked =
      "POST " + P +
      " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: "
      "Authorization\r\nConnection: close\r\n\r\nc\r\n" +
      body + "\r\n0\r\nAuthorization: Bearer the-token\r\nX-Request-Id: from-trailer\r\n\r\n";
  std::string answer = raw_exchange(server.port(), chunked);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
  EXPECT_NE(answer.find("9106"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("from-trailer"), std::string::npos) << answer;
}

// RFC 9112 §6.3: a Transfer-Encoding whose final coding is not chunked
// cannot be framed: 400 and close, and the bytes after it are never read as
// a request of their own.
TEST(transport, a_transfer_coding_other_than_chunked_smuggles_nothing) {
  test_server server(lenient);
  http_client client(server.port());
  auto created = client.post(Q, R"({"queue_name":"victim"})").json();
  std::string id(created.at("result").at("queue_id").as_string());
  std::string smuggled = "DELETE " + Q + "/" + id + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n";
  std::string answer =
      raw_exchange(server.port(), "POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
                                      "Transfer-Encoding: gzip\r\n\r\n" + smuggled);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
  EXPECT_EQ(count_of(answer, "HTTP/1.1 "), 1) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(client.request("GET", Q + "/" + id).status, 200u) << "the queue was deleted";
}

// A 413 sent while the client still sends its body reaches the client:
// the server drains before it closes (RFC 9112 §9.6), instead of resetting.
TEST(transport, a_413_reaches_a_client_that_is_still_sending) {
  test_server server(lenient);
  std::string body(2 * 1024 * 1024, 'b');
  for (int attempt = 0; attempt < 5; ++attempt) {
    raw_connection c(server.port());
    bool sent = c.send("POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_TRUE(sent) << "the server reset the connection under the client";
    c.half_close();
    const std::string& answer = c.read_all();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << attempt << ": " << answer.substr(0, 200);
    EXPECT_NE(answer.find("10205"), std::string::npos);
  }
}

// RFC 9110 §10.1.1: the expectation's value is case-insensitive, and an
// HTTP/1.0 request's Expect is ignored.
TEST(transport, expect_100_continue_in_any_case) {
  test_server server(lenient);
  std::string body = R"({"body":"after 100"})";
  raw_connection c(server.port());
  c.send("POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth + "Expect: 100-Continue\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  ASSERT_TRUE(c.read_until("\r\n\r\n"));
  EXPECT_TRUE(c.received().starts_with("HTTP/1.1 100 Continue")) << c.received();
  c.send(body);
  EXPECT_TRUE(c.read_until("backlog_count")) << c.received();
  EXPECT_NE(c.received().find("HTTP/1.1 200"), std::string::npos) << c.received();

  std::string old = raw_exchange(
      server.port(), "POST " + P + " HTTP/1.0\r\n" + auth +
                         "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body);
  EXPECT_TRUE(old.starts_with("HTTP/1.0 200")) << old;
  EXPECT_EQ(old.find(" 100 "), std::string::npos) << old;
}

// HEAD on every GET route: the GET's status and headers, no body; the
// connection stays usable. Every 405 says what is allowed.
TEST(transport, head_answers_every_get_route_and_405_carries_allow) {
  test_server server(lenient);
  http_client client(server.port());
  auto created = client.post(Q, R"({"queue_name":"heads"})").json();
  std::string id(created.at("result").at("queue_id").as_string());
  ASSERT_EQ(client.post(Q + "/" + id + "/consumers", R"({"type":"http_pull"})").status, 200u);
  std::string cid(client.request("GET", Q + "/" + id + "/consumers")
                      .json()
                      .at("result")
                      .at(0)
                      .at("consumer_id")
                      .as_string());
  for (std::string target :
       {std::string("/healthz"), std::string("/readyz"), Q, Q + "/" + id, Q + "/" + id + "/metrics",
        Q + "/" + id + "/purge", Q + "/" + id + "/consumers", Q + "/" + id + "/consumers/" + cid,
        std::string("/_flareq/queues"), "/_flareq/queues/acc/" + id + "/messages", Q + "/nope"}) {
    bool open = target == "/healthz" || target == "/readyz";
    std::string headers = open ? "" : auth;
    std::string get = raw_exchange(server.port(), req("GET", target, "", headers));
    raw_connection c(server.port());
    // HEAD, then GET on the same connection: the HEAD must not leave a body behind.
    c.send("HEAD " + target + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n" +
           req("GET", target, "", headers));
    c.half_close();
    const std::string& both = c.read_all();
    auto get_head = get.substr(0, get.find("\r\n\r\n"));
    auto head_head = both.substr(0, both.find("\r\n\r\n"));
    EXPECT_EQ(head_head.substr(0, 12), get_head.substr(0, 12)) << target;
    auto length = [](const std::string& h) {
      auto at = h.find("Content-Length: ");
      return at == std::string::npos ? std::string() : h.substr(at, h.find("\r\n", at) - at);
    };
    EXPECT_EQ(length(head_head), length(get_head)) << target;
    // What follows the HEAD's headers is the GET's answer, whole.
    std::string rest = both.substr(both.find("\r\n\r\n") + 4);
    EXPECT_TRUE(rest.starts_with(get.substr(0, 12))) << target << "\n" << rest.substr(0, 200);
  }
  for (auto [method, target, allow] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"DELETE", "/healthz", "GET, HEAD"},
           {"POST", Q + "/" + id + "/metrics", "GET, HEAD"},
           {"GET", P, "POST"},
           {"HEAD", P + "/pull", "POST"},
           {"POST", Q + "/" + id, "GET, HEAD, PUT, PATCH, DELETE"}}) {
    std::string answer = raw_exchange(server.port(), req(method, target, "", auth));
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 405")) << method << " " << target << "\n" << answer;
    EXPECT_NE(answer.find("\r\nAllow: " + allow + "\r\n"), std::string::npos)
        << method << " " << target << "\n"
        << answer;
  }
}

// Answers the transport gives before the app sees the request keep HEAD's
// rule too: headers only.
TEST(transport, head_gets_no_body_from_refusals_either) {
  test_server server(lenient);
  for (const std::string& bytes :
       {std::string("HEAD /healthz HTTP/1.1\r\n\r\n"),
        std::string("HEAD /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
        "HEAD " + P + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n",
        "HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'b') + "\r\n\r\n",
        std::string("HEAD /healthz HTTP/1.1\r\nHost: x\r\nbad field\r\n\r\n")}) {
    std::string answer = raw_exchange(server.port(), bytes);
    ASSERT_TRUE(answer.starts_with("HTTP/1.1 4")) << answer;
    EXPECT_EQ(answer.substr(answer.find("\r\n\r\n") + 4), "") << answer;
    EXPECT_NE(answer.find("Content-Length: "), std::string::npos) << answer;
  }
}

// A field value as large as the largest header limit allows is refused,
// never thrown out of the I/O thread (Beast cannot hold one of 65,534 bytes).
TEST(transport, the_largest_header_field_is_refused_not_fatal) {
  test_server server([](config& c) {
    c.lenient = true;
    c.max_header_bytes = 65'536;
  });
  for (std::size_t size : {65'400u, 70'000u, 200'000u}) {
    std::string answer = raw_exchange(
        server.port(),
        req("POST", P, R"({"body":1})", auth + "X-Big: " + std::string(size, 'b') + "\r\n"));
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 431") || answer.starts_with("HTTP/1.1 400"))
        << size << ": " << answer.substr(0, 200);
    EXPECT_EQ(http_client(server.port()).request("GET", "/healthz", "", {}).status, 200u) << size;
  }
}

TEST(transport, every_answer_has_a_date) {
  test_server server(lenient);
  for (const std::string& bytes :
       {req("GET", "/healthz", "", ""), post(P, "{nope"), req("GET", "/nowhere", "", auth),
        std::string("GARBAGE\r\n\r\n")}) {
    std::string answer = raw_exchange(server.port(), bytes);
    std::string head = answer.substr(0, answer.find("\r\n\r\n"));
    EXPECT_NE(head.find("\r\nDate: "), std::string::npos) << answer;
    EXPECT_NE(head.find(" GMT"), std::string::npos) << answer;
  }
}

// The header limit counts the bytes that arrived, not ": " per field.
TEST(transport, the_header_limit_counts_what_arrived) {
  test_server server(lenient);
  std::string fields;
  int count = 0;
  // Fields written "Xn:1" (no space): each is one byte shorter than a count
  // that assumes ": " would say.
  for (; fields.size() < 15'000; ++count) fields += "X" + std::to_string(count) + ":1\r\n";
  std::string bytes = req("POST", P, R"({"body":1})", auth + fields);
  std::size_t header = bytes.find("\r\n\r\n") + 4;
  ASSERT_LT(header, 16'384u);
  ASSERT_GT(header + count, 16'384u);
  std::string answer = raw_exchange(server.port(), bytes);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer.substr(0, 300);
}

// Request bytes reach JSON (the 7003 message, the log line) as valid UTF-8.
TEST(transport, invalid_utf8_in_the_path_gives_valid_json) {
  temp_dir dir;
  process p(flareq_binary(),
            {"--lenient", "--port", "0", "--db", ":memory:", "--log-format", "json"});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  std::string answer =
      raw_exchange(port, req("GET", "/client/v4/accounts/\xff\xfe\xc3/queues", "", auth));
  std::string body = answer.substr(answer.find("\r\n\r\n") + 4);
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  ASSERT_FALSE(ec) << body;
  EXPECT_EQ(v.at("errors").at(0).at("code"), 7003);
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);
  std::string out = p.output();
  std::size_t lines = 0;
  for (std::size_t at = 0; at < out.size();) {
    std::size_t end = out.find('\n', at);
    std::string line = out.substr(at, end - at);
    at = end == std::string::npos ? out.size() : end + 1;
    if (line.empty()) continue;
    ++lines;
    boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << line;
  }
  EXPECT_GE(lines, 3u);
}

TEST(transport, an_ipv6_host_is_printed_in_brackets) {
  process p(flareq_binary(), {"--lenient", "--host", "::1", "--port", "0", "--db", ":memory:"});
  std::uint16_t port = p.wait_for_port();
  if (port == 0 && p.output().find("::1") != std::string::npos &&
      p.output().find("listening") == std::string::npos) {
    GTEST_SKIP() << "no IPv6 loopback here: " << p.output();
  }
  EXPECT_NE(p.output().find("listening on http://[::1]:"), std::string::npos) << p.output();
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);
}

TEST(transport, a_port_in_use_or_a_bad_host_exits_2_before_the_database) {
  test_server busy;
  temp_dir dir;
  std::string db = dir.file("never.db");
  process in_use(flareq_binary(), {"--port", std::to_string(busy.port()), "--db", db});
  EXPECT_EQ(in_use.wait(), 2) << in_use.output();
  EXPECT_NE(in_use.output().find("flareq: port " + std::to_string(busy.port()) +
                                 " is in use on 127.0.0.1"),
            std::string::npos)
      << in_use.output();
  EXPECT_EQ(in_use.output().find("boost"), std::string::npos) << in_use.output();
  process bad_host(flareq_binary(), {"--host", "localhost.nowhere", "--port", "0", "--db", db});
  EXPECT_EQ(bad_host.wait(), 2) << bad_host.output();
  EXPECT_NE(bad_host.output().find("--host localhost.nowhere: not an IP address"),
            std::string::npos)
      << bad_host.output();
  EXPECT_FALSE(std::filesystem::exists(db)) << "a database was created";
}

// A second SIGTERM stops at once, even with a client in the middle of a
// request, and the database is still closed cleanly.
TEST(transport, a_second_signal_stops_at_once) {
  temp_dir dir;
  process p(flareq_binary(), {"--lenient", "--port", "0", "--db", dir.file("f.db")});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  raw_connection slow(port);
  slow.send("POST " + P + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 100\r\n\r\n{");
  // A second request proves the first one's headers were read.
  EXPECT_EQ(http_client(port).request("GET", "/healthz", "", {}).status, 200u);
  p.send_signal(SIGTERM);
  // Still waiting for the slow request (10 s deadline) ...
  for (int i = 0; i < 100 && p.output().find("signal 15: stopping") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(p.output().find("stopped cleanly"), std::string::npos);
  auto started = std::chrono::steady_clock::now();
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0) << p.output();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_NE(p.output().find("again: closing every connection now"), std::string::npos)
      << p.output();
  EXPECT_NE(p.output().find("stopped cleanly"), std::string::npos) << p.output();
}

// The log's reader goes away (`flareq 2>&1 | head -1`): the server keeps
// serving instead of dying of SIGPIPE.
TEST(transport, a_closed_log_reader_does_not_kill_the_server) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string binary = flareq_binary();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(binary.c_str(), binary.c_str(), "--lenient", "--port", "0", "--db",
            ":memory:", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  // Up to the start-up line (a warning may come before it).
  std::string first;
  char c = 0;
  while (first.find("listening") == std::string::npos || first.back() != '\n') {
    if (::read(fds[0], &c, 1) != 1) break;
    first += c;
  }
  ::close(fds[0]);  // the reader goes away
  auto at = first.find("127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << first;
  auto port = static_cast<std::uint16_t>(std::stoi(first.substr(at + 10)));
  http_client client(port);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(client.post(P, R"({"body":1})").status, 200u) << i;
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Out of file descriptors: accept backs off and says so once, instead of
// spinning, and serves again when descriptors are free.
TEST(transport, running_out_of_descriptors_backs_off_and_recovers) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check reads /proc/self/maps: with no descriptor left it
  // reports Asio's EMFILE error_code as an object with an invalid vptr.
  GTEST_SKIP() << "UBSan needs descriptors of its own here; the dev and tsan presets run this";
#endif
  if (!std::filesystem::exists("/usr/bin/prlimit")) GTEST_SKIP() << "no prlimit (util-linux)";
  process p("/usr/bin/prlimit",
            {"--nofile=48:48", flareq_binary(), "--lenient", "--port", "0", "--db", ":memory:"});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  EXPECT_NE(p.output().find("open files are allowed"), std::string::npos) << p.output();
  {
    std::vector<std::unique_ptr<raw_connection>> hogs;
    for (int i = 0; i < 80; ++i) hogs.push_back(std::make_unique<raw_connection>(port));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(http_client(port).request("GET", "/healthz", "", {}).status, 200u);
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);
  std::string out = p.output();
  // Said once (and again at most once a minute), however often it happened.
  EXPECT_EQ(count_of(out, "accept: "), 1) << out.substr(0, 2000);
}

}  // namespace
}  // namespace flareq::test
