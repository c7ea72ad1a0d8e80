// The flareq binary itself: --help, --version, bad flags, the start-up line,
// access logs, and a graceful stop on SIGTERM and SIGINT that answers the
// request in flight and closes the database.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>

#include "storage/database.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace flareq::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

TEST(lifecycle, help_lists_every_flag_and_exits_0) {
  process p(flareq_binary(), {"--help"});
  EXPECT_EQ(p.wait(), 0);
  std::string out = p.output();
  for (const char* word : {"--host", "--port", "--db", "--api-token", "--strict", "--queue",
                           "--max-delay-seconds", "--log-level", "FLAREQ_PORT", "/healthz"}) {
    EXPECT_NE(out.find(word), std::string::npos) << word;
  }
}

TEST(lifecycle, version) {
  process p(flareq_binary(), {"--version"});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(p.output(), std::string("flareq ") + FLAREQ_VERSION + "\n");
}

TEST(lifecycle, bad_flag_exits_2_with_a_message) {
  process p(flareq_binary(), {"--port", "nope"});
  EXPECT_EQ(p.wait(), 2);
  EXPECT_NE(p.output().find("port"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("--help"), std::string::npos) << p.output();
}

TEST(lifecycle, bad_environment_exits_2) {
  process p(flareq_binary(), {}, {"FLAREQ_LOG_LEVEL=shout"});
  EXPECT_EQ(p.wait(), 2);
  EXPECT_NE(p.output().find("--log-level"), std::string::npos) << p.output();
}

TEST(lifecycle, a_file_that_is_not_a_database_exits_2_untouched) {
  temp_dir dir;
  std::string path = dir.file("junk.db");
  std::string junk(200, 'j');
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(junk.c_str(), f);
    std::fclose(f);
  }
  process p(flareq_binary(), {"--lenient", "--port", "0", "--db", path});
  EXPECT_EQ(p.wait(), 2);
  EXPECT_NE(p.output().find("database"), std::string::npos) << p.output();
  std::FILE* f = std::fopen(path.c_str(), "r");
  char buf[512] = {};
  std::size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n), junk);
}

TEST(lifecycle, serves_logs_and_stops_cleanly_on_sigterm) {
  temp_dir dir;
  std::string db = dir.file("data/flareq.db");
  process p(flareq_binary(), {"--lenient", "--port", "0", "--db", db});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  {
    http_client client(port);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(client.post(push_path("acc", "q"), R"({"body":"x","content_type":"text"})").status,
                200u);
    }
    EXPECT_EQ(client.request("GET", "/readyz", "", {}).status, 200u);
  }
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);
  std::string out = p.output();
  EXPECT_NE(out.find("listening on http://127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_NE(out.find("dashboard at http://127.0.0.1:" + std::to_string(port) +
                     "/_flareq/ui/, Prometheus metrics at http://127.0.0.1:" +
                     std::to_string(port) + "/metrics"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("POST /client/v4/accounts/acc/queues/q/messages 200 "), std::string::npos)
      << out;
  EXPECT_NE(out.find("GET /readyz 200 "), std::string::npos) << out;
  EXPECT_NE(out.find("stopped cleanly"), std::string::npos) << out;
  storage::database check = storage::database::open(db);
  auto q = check.prepare("SELECT count(*) FROM messages");
  q->step();
  EXPECT_EQ(q->column_int64(0), 5);
}

// A signal that comes the moment the server says it listens, while its
// threads are still settling, stops it like any other: repeated, since a
// signal handler racing those threads lost one start in ten under TSan.
TEST(lifecycle, sigterm_right_after_the_listening_line_always_stops_the_server) {
  temp_dir dir;
  for (int i = 0; i < 20; ++i) {
    process p(flareq_binary(), {"--lenient", "--port", "0", "--db", dir.file("f.db")});
    ASSERT_NE(p.wait_for_port(), 0) << p.output();
    p.send_signal(i % 2 == 0 ? SIGTERM : SIGINT);
    ASSERT_EQ(p.wait(std::chrono::seconds(20)), 0) << "start " << i << ":\n" << p.output();
    EXPECT_NE(p.output().find(i % 2 == 0 ? "signal 15: stopping" : "signal 2: stopping"),
              std::string::npos)
        << p.output();
    EXPECT_NE(p.output().find("stopped cleanly"), std::string::npos) << p.output();
  }
}

TEST(lifecycle, log_level_warn_silences_access_lines) {
  process p(flareq_binary(),
            {"--lenient", "--port", "0", "--db", ":memory:", "--log-level", "warn"});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  http_client(port).post(push_path("acc", "q"), R"({"body":1})");
  p.send_signal(SIGINT);
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(p.output().find("POST /"), std::string::npos) << p.output();
}

TEST(lifecycle, request_in_flight_is_answered_after_sigterm) {
  temp_dir dir;
  process p(flareq_binary(), {"--lenient", "--port", "0", "--db", dir.file("f.db")});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::string body = R"({"body":"in flight","content_type":"text"})";
  std::string head = "POST " + push_path("acc", "q") +
                     " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  // Headers and half the body: the request is in flight.
  asio::write(socket, asio::buffer(head + body.substr(0, 10)));
  // A request on a second connection proves the headers above were read.
  http_client(port).request("GET", "/healthz", "", {});
  p.send_signal(SIGTERM);
  // Once new connections are refused, the server is stopping.
  bool refused = false;
  for (int i = 0; i < 2000 && !refused; ++i) {
    tcp::socket probe(ioc);
    boost::system::error_code ec;
    probe.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    refused = static_cast<bool>(ec);
  }
  ASSERT_TRUE(refused);
  asio::write(socket, asio::buffer(body.substr(10)));
  std::string answer;
  boost::system::error_code ec;
  char chunk[1024];
  for (;;) {
    std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    answer.append(chunk, n);
    if (ec) break;
  }
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK")) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(p.wait(), 0);
  storage::database check = storage::database::open(dir.file("f.db"));
  auto q = check.prepare("SELECT body FROM messages");
  ASSERT_TRUE(q->step());
  EXPECT_EQ(q->column_text(0), "in flight");
}

}  // namespace
}  // namespace flareq::test
