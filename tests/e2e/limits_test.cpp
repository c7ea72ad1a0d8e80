// Transport limits on the real server: a slow sender is cut off by the
// request deadline, an idle connection by the idle timeout, and connections
// beyond the limit are turned away while the others keep working.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/test_server.hpp"

namespace flareq::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A raw connection: write bytes, then read until the server closes.
class raw_connection {
 public:
  explicit raw_connection(std::uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Reads until the server closes the connection; returns what came.
  std::string read_to_close() {
    std::string out;
    char chunk[4096];
    boost::system::error_code ec;
    for (;;) {
      std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
      out.append(chunk, n);
      if (ec) return out;
    }
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
};

std::int64_t ms_since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

TEST(limits, slow_sender_is_cut_off_by_the_request_deadline) {
  test_server server([](config& c) {
    c.lenient = true;
    c.request_timeout_ms = 500;
  });
  raw_connection slow(server.port());
  auto start = steady_clock::now();
  // Half a request, and then nothing: the request never completes.
  slow.send("POST /client/v4/accounts/a/queues/q/messages HTTP/1.1\r\nHost: x\r\nAuthor");
  std::string answer = slow.read_to_close();
  std::int64_t elapsed = ms_since(start);
  EXPECT_EQ(answer, "");
  EXPECT_GE(elapsed, 400);
  EXPECT_LT(elapsed, 5000);
  // Others are served meanwhile and after.
  EXPECT_EQ(http_client(server.port()).request("GET", "/healthz", "", {}).status, 200u);
}

TEST(limits, default_request_deadline_is_ten_seconds) {
  EXPECT_EQ(config().request_timeout_ms, 10'000);
}

TEST(limits, idle_connection_is_closed_by_the_idle_timeout) {
  test_server server([](config& c) {
    c.lenient = true;
    c.idle_timeout_ms = 300;
  });
  raw_connection idle(server.port());
  auto start = steady_clock::now();
  EXPECT_EQ(idle.read_to_close(), "");
  std::int64_t elapsed = ms_since(start);
  EXPECT_GE(elapsed, 250);
  EXPECT_LT(elapsed, 5000);
  // A kept-alive connection gets the same after its request.
  raw_connection kept(server.port());
  kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string answer = kept.read_to_close();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
}

TEST(limits, connections_beyond_the_limit_are_turned_away) {
  test_server server([](config& c) {
    c.lenient = true;
    c.max_connections = 3;
  });
  std::vector<std::unique_ptr<http_client>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<http_client>(server.port()));
    ASSERT_EQ(open.back()->request("GET", "/healthz", "", {}).status, 200u);
  }
  raw_connection extra(server.port());
  std::string answer = extra.read_to_close();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
  EXPECT_NE(answer.find("\"code\":15000"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Too many connections"), std::string::npos) << answer;
  // The open ones keep working.
  for (auto& c : open) {
    EXPECT_EQ(c->post(push_path("acc", "q"), R"({"body":1})").status, 200u);
  }
  // Once one closes, a new connection is served (the server notices the
  // close a moment later: try a bounded number of times).
  open.pop_back();
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    raw_connection next(server.port());
    next.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    served = next.read_to_close().starts_with("HTTP/1.1 200");
  }
  EXPECT_TRUE(served);
}

TEST(limits, body_over_the_limit_is_413_before_it_is_read) {
  test_server server([](config& c) {
    c.lenient = true;
    c.max_body_bytes = 256 * 1024;
  });
  raw_connection client(server.port());
  // Only the headers: the announced length alone is over the limit.
  client.send("POST " + push_path("acc", "q") +
              " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 300000\r\n\r\n");
  std::string answer = client.read_to_close();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  EXPECT_NE(answer.find("\"code\":10205"), std::string::npos) << answer;
}

}  // namespace
}  // namespace flareq::test
