// The test harness under /_flareq, end to end on the real server: the clock
// moved over HTTP, snapshots, fault rules and the journal (paged and live).
// Nothing sleeps for a delay or a lease: the clock is moved instead.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/database.hpp"
#include "storage/migrate.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_server.hpp"

namespace flareq::test {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

const std::string base = "/client/v4/accounts/acc/queues";

class harness : public ::testing::Test {
 protected:
  explicit harness(const std::function<void(config&)>& adjust = {})
      : server(adjust), client(server.port()) {}

  json::value ok(std::string_view method, const std::string& target, std::string_view body = "{}") {
    auto r = client.request(method, target, body);
    EXPECT_EQ(r.status, 200u) << method << " " << target << " " << body << " -> " << r.body;
    return r.json().at("result");
  }
  // A queue with an http_pull consumer; returns its id.
  std::string queue(const std::string& name, const std::string& settings = "{}") {
    std::string id(
        ok("POST", base, R"({"queue_name":")" + name + R"(","settings":)" + settings + "}")
            .at("queue_id")
            .as_string());
    ok("POST", base + "/" + id + "/consumers", R"({"type":"http_pull"})");
    return id;
  }
  json::array pull(const std::string& q, std::int64_t visibility_ms = 30'000) {
    return ok("POST", base + "/" + q + "/messages/pull",
              R"({"batch_size":10,"visibility_timeout_ms":)" + std::to_string(visibility_ms) + "}")
        .at("messages")
        .as_array();
  }
  void advance(std::int64_t ms) {
    ok("POST", "/_flareq/clock", R"({"advance_ms":)" + std::to_string(ms) + "}");
  }
  std::int64_t backlog(const std::string& q) {
    return ok("GET", base + "/" + q + "/metrics", "").at("backlog_count").as_int64();
  }
  std::vector<std::string> event_types(const std::string& filter) {
    std::vector<std::string> out;
    json::value events = ok("GET", "/_flareq/events?" + filter, "");
    for (const auto& e : events.as_array()) {
      out.emplace_back(e.at("type").as_string());
    }
    return out;
  }

  test_server server;
  http_client client;
};

// ---- 1. the clock -----------------------------------------------------------

TEST_F(harness, a_day_long_delay_passes_when_the_clock_is_moved) {
  auto clock = ok("GET", "/_flareq/clock", "");
  EXPECT_EQ(clock.at("mode"), "manual");
  EXPECT_EQ(clock.at("now_ms").as_int64(), test_epoch_us / 1000);
  std::string q = queue("later");
  ok("POST", base + "/" + q + "/messages",
     R"({"body":"tomorrow","content_type":"text","delay_seconds":86400})");
  advance(86'399'999);
  EXPECT_TRUE(pull(q).empty()) << "a millisecond early";
  advance(1);
  auto got = pull(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("body"), "tomorrow");
  EXPECT_EQ(event_types("queue=" + q), (std::vector<std::string>{"queue_created", "queue_updated",
                                                                 "pushed", "ready", "leased"}));
}

TEST_F(harness, the_clock_never_goes_backwards_and_takes_one_instruction) {
  std::int64_t now = ok("GET", "/_flareq/clock", "").at("now_ms").as_int64();
  auto back = client.post("/_flareq/clock", R"({"now_ms":)" + std::to_string(now - 1) + "}");
  EXPECT_EQ(back.status, 400u) << back.body;
  EXPECT_NE(back.body.find("never goes backwards"), std::string::npos) << back.body;
  EXPECT_EQ(client.post("/_flareq/clock", R"({"advance_ms":1,"now_ms":5})").status, 400u);
  EXPECT_EQ(client.post("/_flareq/clock", R"({"advance_ms":-1})").status, 400u);
  EXPECT_EQ(client.post("/_flareq/clock", R"({"advance":1})").status, 400u);
  EXPECT_EQ(client.post("/_flareq/clock", "{}", {}).status, 400u) << "credentials are required";
  // Up to the last millisecond of year 9999, which dates can still show.
  auto far = client.post("/_flareq/clock", R"({"now_ms":253402300800000})");
  EXPECT_EQ(far.status, 400u) << far.body;
  auto past_end = client.post("/_flareq/clock", R"({"advance_ms":253402300799999})");
  EXPECT_EQ(past_end.status, 400u) << past_end.body;
  EXPECT_NE(past_end.body.find("9999-12-31"), std::string::npos) << past_end.body;
  auto to = ok("POST", "/_flareq/clock", R"({"now_ms":)" + std::to_string(now + 5000) + "}");
  EXPECT_EQ(to.at("now_ms").as_int64(), now + 5000);
  EXPECT_EQ(ok("GET", "/_flareq/clock", "").at("now_ms").as_int64(), now + 5000);
}

TEST_F(harness, timestamps_and_the_date_header_follow_the_clock) {
  advance(3'600'000);
  std::string q = queue("stamped");
  auto made = ok("GET", base + "/" + q, "");
  EXPECT_EQ(made.at("created_on"), "2026-11-29T20:45:52.123456Z");
  auto r = client.request("GET", "/_flareq/clock");
  EXPECT_EQ(r.headers["date"], "Sun, 29 Nov 2026 20:45:52 GMT");
  ok("POST", base + "/" + q + "/purge", R"({"delete_messages_permanently":true})");
  EXPECT_EQ(ok("GET", base + "/" + q + "/purge", "").at("started_at"),
            "2026-11-29T20:45:52.123456Z");
}

TEST_F(harness, retention_removes_messages_when_due_without_a_request_to_the_queue) {
  std::string q = queue("short", R"({"message_retention_period":60})");
  ok("POST", base + "/" + q + "/messages", R"({"body":"old","content_type":"text"})");
  advance(60'001);  // the clock's own request: nothing touches the queue
  EXPECT_EQ(event_types("queue=" + q),
            (std::vector<std::string>{"queue_created", "queue_updated", "pushed", "expired"}));
  server.stop();
  auto db = storage::database::open(server.db_path());
  auto count = db.prepare("SELECT count(*) FROM messages");
  count->step();
  EXPECT_EQ(count->column_int64(0), 0) << "the message left the file";
}

// ---- 5. the journal -----------------------------------------------------------

// Reads a server-sent event stream on its own connection, as a plain client.
class stream_reader {
 public:
  stream_reader(std::uint16_t port, const std::string& target, const std::string& extra = "")
      : socket_(ioc_) {
    socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string request = "GET " + target +
                          " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\n" + extra +
                          "\r\n";
    asio::write(socket_, asio::buffer(request));
    reader_ = std::thread([this] {
      char chunk[4096];
      boost::system::error_code ec;
      for (;;) {
        std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
        std::lock_guard lock(mutex_);
        text_.append(chunk, n);
        closed_ = static_cast<bool>(ec);
        changed_.notify_all();
        if (ec) return;
      }
    });
  }
  ~stream_reader() {
    boost::system::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    reader_.join();
  }
  stream_reader(const stream_reader&) = delete;
  stream_reader& operator=(const stream_reader&) = delete;

  // Waits (at most 10 s) until the stream holds `count` events; returns their types.
  std::vector<std::string> wait_for_events(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10),
                      [&] { return types().size() >= count || closed_; });
    return types();
  }
  // Waits (at most 10 s) for the stream's opening comment: the server has
  // then resolved where it starts (after=now).
  bool wait_started() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      return text_.find(": flareq events") != std::string::npos || closed_;
    });
  }
  // Waits (at most 10 s) for the server to close the stream.
  bool wait_closed() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return closed_; });
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  std::vector<std::string> types() const {  // mutex_ held
    std::vector<std::string> out;
    for (std::size_t at = text_.find("\nevent: "); at != std::string::npos;
         at = text_.find("\nevent: ", at + 1)) {
      std::size_t end = text_.find('\n', at + 8);
      if (end == std::string::npos) break;
      out.push_back(text_.substr(at + 8, end - at - 8));
    }
    return out;
  }

  asio::io_context ioc_;
  asio::ip::tcp::socket socket_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;     // guarded by mutex_
  bool closed_ = false;  // guarded by mutex_
  std::thread reader_;
};

TEST_F(harness, the_stream_tells_a_message_story_as_it_happens) {
  std::string q = queue("story");
  // From now on: the queue's creation (and its consumer's) is not shown.
  stream_reader stream(server.port(), "/_flareq/events/stream?after=now&queue=" + q);
  ASSERT_TRUE(stream.wait_started());
  ok("POST", base + "/" + q + "/messages", R"({"body":"once","content_type":"text"})");
  EXPECT_EQ(stream.wait_for_events(1), (std::vector<std::string>{"pushed"}));
  ASSERT_EQ(pull(q, 1000).size(), 1u);
  EXPECT_EQ(stream.wait_for_events(2), (std::vector<std::string>{"pushed", "leased"}));
  // The lease ends with the clock: the stream says so with no other request.
  advance(1000);
  EXPECT_EQ(stream.wait_for_events(3),
            (std::vector<std::string>{"pushed", "leased", "lease_expired"}));
  auto again = pull(q);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].at("attempts"), 2);
  ok("POST", base + "/" + q + "/messages/ack",
     R"({"acks":[{"lease_id":")" + std::string(again[0].at("lease_id").as_string()) + "\"}]}");
  EXPECT_EQ(stream.wait_for_events(5),
            (std::vector<std::string>{"pushed", "leased", "lease_expired", "leased", "acked"}));
  std::string text = stream.text();
  EXPECT_NE(text.find("Content-Type: text/event-stream"), std::string::npos) << text;
  EXPECT_NE(text.find("\"attempt\":2"), std::string::npos) << text;
}

TEST_F(harness, a_stream_resumes_after_its_last_event_id_and_ends_when_the_server_stops) {
  std::string q = queue("resume");
  for (int i = 0; i < 3; ++i) {
    ok("POST", base + "/" + q + "/messages", R"({"body":"m","content_type":"text"})");
  }
  auto all = ok("GET", "/_flareq/events?queue=" + q, "").as_array();
  ASSERT_EQ(all.size(), 5u);  // queue_created, queue_updated (its consumer), 3 pushed
  EXPECT_EQ(all[0].at("type"), "queue_created");
  EXPECT_EQ(all[0].at("name"), "resume");
  std::string second = std::to_string(all[3].at("id").as_int64());
  stream_reader stream(server.port(), "/_flareq/events/stream?queue=" + q,
                       "Last-Event-ID: " + second + "\r\n");
  EXPECT_EQ(stream.wait_for_events(1).size(), 1u);
  EXPECT_NE(stream.text().find("id: " + std::to_string(all[4].at("id").as_int64())),
            std::string::npos);
  server.stop();  // a graceful stop ends the stream instead of waiting for it
  EXPECT_TRUE(stream.wait_closed());
}

TEST_F(harness, the_journal_pages_filters_and_records_every_kind_of_change) {
  std::string q = queue("kinds", R"({"delivery_delay":0})");
  std::string dlq = queue("kinds-dlq");
  ok("PUT",
     base + "/" + q + "/consumers/" +
         std::string(ok("GET", base + "/" + q + "/consumers", "")
                         .as_array()[0]
                         .at("consumer_id")
                         .as_string()),
     R"({"type":"http_pull","dead_letter_queue":"kinds-dlq","settings":{"max_retries":1}})");
  ok("POST", base + "/" + q + "/messages", R"({"body":"a","content_type":"text"})");
  auto retry = [&](const json::value& m, int delay) {
    ok("POST", base + "/" + q + "/messages/ack",
       R"({"retries":[{"lease_id":")" + std::string(m.at("lease_id").as_string()) +
           R"(","delay_seconds":)" + std::to_string(delay) + "}]}");
  };
  auto leased = pull(q);
  ASSERT_EQ(leased.size(), 1u);
  retry(leased[0], 5);
  advance(5000);
  auto second = pull(q);
  ASSERT_EQ(second.size(), 1u);
  retry(second[0], 0);  // past max_retries: dead-lettered
  EXPECT_TRUE(pull(q).empty());
  EXPECT_EQ(backlog(dlq), 1);
  ok("POST", base + "/" + dlq + "/purge", R"({"delete_messages_permanently":true})");
  ok("DELETE", base + "/" + dlq, "");
  EXPECT_EQ(event_types("queue=" + q),
            (std::vector<std::string>{"queue_created", "queue_updated", "queue_updated", "pushed",
                                      "leased", "retried", "ready", "leased", "dead_lettered"}));
  EXPECT_EQ(event_types("queue=" + dlq), (std::vector<std::string>{"queue_created", "queue_updated",
                                                                   "purged", "queue_deleted"}));
  // Paging: after= and limit= walk the whole journal, in id order.
  std::vector<std::int64_t> ids;
  std::int64_t after = 0;
  for (;;) {
    auto r = client.request("GET", "/_flareq/events?limit=2&after=" + std::to_string(after));
    auto page = r.json().at("result").as_array();
    if (page.empty()) break;
    for (const auto& e : page) ids.push_back(e.at("id").as_int64());
    after = r.json().at("result_info").at("last_id").as_int64();
  }
  ASSERT_EQ(ids.size(), 14u);  // and the clock's move
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1);
  std::string message(leased[0].at("id").as_string());
  EXPECT_EQ(event_types("message=" + message).size(), 6u);
  EXPECT_EQ(client.request("GET", "/_flareq/events?limit=0").status, 400u);
  EXPECT_EQ(client.request("GET", "/_flareq/events?after=x").status, 400u);
  // after=now: nothing yet, and the page says where now is.
  auto now = client.request("GET", "/_flareq/events?after=now").json();
  EXPECT_TRUE(now.at("result").as_array().empty());
  EXPECT_EQ(now.at("result_info").at("last_id").as_int64(), ids.back());
}

class small_journal : public harness {
 protected:
  small_journal() : harness([](config& c) { c.journal_size = 5; }) {}
};

TEST_F(small_journal, keeps_its_newest_events_across_a_restart) {
  std::string q = queue("bounded");
  for (int i = 0; i < 8; ++i) {
    ok("POST", base + "/" + q + "/messages", R"({"body":"m","content_type":"text"})");
  }
  server.restart();
  http_client again(server.port());
  auto events = again.request("GET", "/_flareq/events").json().at("result").as_array();
  // 10 events: the queue's creation, its consumer, 8 pushes; the newest 5 stay.
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events.front().at("id"), 6);
  EXPECT_EQ(events.back().at("id"), 10);
}

// ---- 3. snapshots -------------------------------------------------------------

TEST_F(harness, a_snapshot_brings_the_state_back_and_keeps_the_journal) {
  std::string q = queue("snap");
  ok("POST", base + "/" + q + "/messages", R"({"body":"kept","content_type":"text"})");
  auto saved = ok("POST", "/_flareq/snapshots", R"({"name":"before-test"})");
  EXPECT_EQ(saved.at("name"), "before-test");
  EXPECT_GT(saved.at("size_bytes").as_int64(), 0);
  EXPECT_TRUE(std::filesystem::exists(server.db_path() + ".snapshots/before-test.db"));
  ok("POST", base + "/" + q + "/messages", R"({"body":"gone","content_type":"text"})");
  ok("POST", base, R"({"queue_name":"made-after"})");
  ok("POST", "/_flareq/snapshots/before-test/restore", "");
  EXPECT_EQ(backlog(q), 1);
  auto names = ok("GET", base, "").as_array();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].at("queue_name"), "snap");
  auto got = pull(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("body"), "kept");
  EXPECT_EQ(event_types("").back(), "leased");
  EXPECT_EQ(event_types("")[event_types("").size() - 2], "snapshot_restored");
  auto listed = ok("GET", "/_flareq/snapshots", "").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("created_ms").as_int64(), test_epoch_us / 1000);
  ok("DELETE", "/_flareq/snapshots/before-test", "");
  EXPECT_EQ(client.request("DELETE", "/_flareq/snapshots/before-test").status, 404u);
  EXPECT_TRUE(ok("GET", "/_flareq/snapshots", "").as_array().empty());
}

TEST_F(harness, a_missing_damaged_or_badly_named_snapshot_changes_nothing) {
  std::string q = queue("untouched");
  ok("POST", base + "/" + q + "/messages", R"({"body":"stay","content_type":"text"})");
  auto missing = client.post("/_flareq/snapshots/nope/restore", "");
  EXPECT_EQ(missing.status, 404u) << missing.body;
  EXPECT_EQ(client.post("/_flareq/snapshots", R"({"name":"../escape"})").status, 400u);
  EXPECT_EQ(client.post("/_flareq/snapshots", R"({})").status, 400u);
  std::filesystem::create_directories(server.db_path() + ".snapshots");
  std::ofstream(server.db_path() + ".snapshots/broken.db") << std::string(8192, 'x');
  auto broken = client.post("/_flareq/snapshots/broken/restore", "");
  EXPECT_EQ(broken.status, 422u) << broken.body;
  EXPECT_EQ(broken.json().at("errors").at(0).at("code"), 10026);
  // An empty file opens as an empty database: it is no snapshot either.
  std::ofstream(server.db_path() + ".snapshots/empty.db").close();
  auto empty = client.post("/_flareq/snapshots/empty/restore", "");
  EXPECT_EQ(empty.status, 422u) << empty.body;
  // A file that claims our schema version but lacks our tables.
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((server.db_path() + ".snapshots/claims.db").c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 5", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  auto claims = client.post("/_flareq/snapshots/claims/restore", "");
  EXPECT_EQ(claims.status, 422u) << claims.body;
  EXPECT_EQ(backlog(q), 1);
  ASSERT_EQ(pull(q).size(), 1u);
}

TEST_F(harness, a_snapshot_of_an_older_schema_is_migrated_on_restore) {
  std::string q = queue("old");
  ok("POST", "/_flareq/snapshots", R"({"name":"v4"})");
  // Made into what schema version 4 wrote: the schema of migrations 1-4 (no
  // journal, text-keyed messages with their ids stored), holding the queue
  // its pull consumer, and one message that was pulled once.
  const std::string old_id = "0123456789abcdef0123456789abcdef";
  std::filesystem::remove(server.db_path() + ".snapshots/v4.db");
  {
    storage::database v4 = storage::database::open(server.db_path() + ".snapshots/v4.db");
    for (const storage::migration& m : storage::embedded_migrations()) {
      if (m.version <= 4) v4.exec(m.sql);
    }
    v4.exec(
        "INSERT INTO queues (account_id, queue_id, queue_name, created_us, modified_us) "
        "VALUES ('acc', '" +
        q + "', 'old', 1, 1)");
    v4.exec(
        "INSERT INTO consumers (account_id, queue_id, consumer_id, type, created_us) "
        "VALUES ('acc', '" +
        q + "', 'c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0', 'http_pull', 1)");
    v4.exec(
        "INSERT INTO messages (id, account_id, queue_id, content_type, body, size_bytes, "
        "timestamp_ms, delay_seconds, visible_at_ms, attempts) VALUES ('" +
        old_id + "', 'acc', '" + q + "', 'text', 'from-v4', 7, 1795981552000, 0, 0, 1)");
    v4.exec(
        "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE; PRAGMA user_version = 4");
  }
  EXPECT_EQ(backlog(q), 0);
  ok("POST", "/_flareq/snapshots/v4/restore", "");
  EXPECT_EQ(backlog(q), 1);
  auto got = pull(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("body"), "from-v4");
  EXPECT_EQ(got[0].at("id").as_string(), old_id);
  EXPECT_EQ(got[0].at("attempts"), 2);
  // The message keeps its id, and its lease acknowledges it.
  std::string lease(got[0].at("lease_id").as_string());
  EXPECT_EQ(lease.substr(0, 33), old_id + ".");
  auto acked =
      ok("POST", base + "/" + q + "/messages/ack", R"({"acks":[{"lease_id":")" + lease + R"("}]})");
  EXPECT_EQ(acked.at("ackCount"), 1);
  EXPECT_EQ(backlog(q), 0);
}

class memory_harness : public harness {
 protected:
  memory_harness() : harness([](config& c) { c.db = ":memory:"; }) {}
};

TEST_F(memory_harness, snapshots_of_an_in_memory_database_stay_in_memory) {
  std::string q = queue("mem");
  ok("POST", "/_flareq/snapshots", R"({"name":"empty"})");
  ok("POST", base + "/" + q + "/messages", R"({"body":"x","content_type":"text"})");
  EXPECT_EQ(backlog(q), 1);
  ok("POST", "/_flareq/snapshots/empty/restore", "");
  EXPECT_EQ(backlog(q), 0);
  auto listed = ok("GET", "/_flareq/snapshots", "").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_GT(listed[0].at("size_bytes").as_int64(), 4096);
}

// ---- 4. faults ----------------------------------------------------------------

class seeded : public harness {
 protected:
  seeded() : harness([](config& c) { c.seed = 7; }) {}

  // Pushes n times; returns which pushes a fault answered (1) or not (0).
  std::string pushes(const std::string& q, int n) {
    std::string fired;
    for (int i = 0; i < n; ++i) {
      auto r = client.post(base + "/" + q + "/messages", R"({"body":"p","content_type":"text"})");
      bool faulted = r.headers.contains("x-flareq-fault");
      EXPECT_EQ(r.status, faulted ? 500u : 200u) << r.body;
      fired += faulted ? '1' : '0';
    }
    return fired;
  }
};

TEST_F(seeded, a_half_chance_fault_fires_the_same_requests_and_stores_nothing) {
  std::string q = queue("dice");
  auto rule = ok("POST", "/_flareq/faults",
                 R"({"route":"push","action":"error","status":500,"probability":0.5})");
  EXPECT_EQ(rule.at("id"), "1");
  std::string first = pushes(q, 40);
  auto fired = ok("GET", "/_flareq/faults", "").as_array().at(0).at("fired").as_int64();
  EXPECT_EQ(fired, std::count(first.begin(), first.end(), '1'));
  EXPECT_GT(fired, 5);
  EXPECT_LT(fired, 35);
  // A second server on the same seed draws the same dice.
  test_server other([](config& c) { c.seed = 7; });
  http_client other_client(other.port());
  ASSERT_EQ(other_client.post(base, R"({"queue_name":"dice"})").status, 200u);
  ASSERT_EQ(other_client
                .post("/_flareq/faults",
                      R"({"route":"push","action":"error","status":500,"probability":0.5})")
                .status,
            200u);
  std::string second;
  std::string other_q(
      other_client.request("GET", base).json().at("result").at(0).at("queue_id").as_string());
  for (int i = 0; i < 40; ++i) {
    auto r = other_client.post(base + "/" + other_q + "/messages",
                               R"({"body":"p","content_type":"text"})");
    second += r.headers.contains("x-flareq-fault") ? '1' : '0';
  }
  EXPECT_EQ(first, second);
  // The injected 500s stored nothing: the file holds one row per 200.
  std::int64_t answered = std::count(first.begin(), first.end(), '0');
  EXPECT_EQ(backlog(q), answered);
  server.stop();
  auto db = storage::database::open(server.db_path());
  auto count = db.prepare("SELECT count(*) FROM messages");
  count->step();
  EXPECT_EQ(count->column_int64(0), answered);
}

TEST_F(seeded, fault_actions_close_delay_or_lose_the_answer_as_asked) {
  std::string q = queue("acts");
  const std::string push = base + "/" + q + "/messages";
  const std::string body = R"({"body":"b","content_type":"text"})";
  std::string raw = "POST " + push +
                    " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Type: "
                    "application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  // close: no answer, nothing stored.
  ok("POST", "/_flareq/faults", R"({"route":"push","action":"close","times":1})");
  EXPECT_EQ(raw_exchange(server.port(), raw), "");
  EXPECT_EQ(backlog(q), 0);
  // answer_lost: no answer, but stored ("the ack lost on the way back").
  ok("POST", "/_flareq/faults", R"({"route":"push","action":"answer_lost","times":1})");
  EXPECT_EQ(raw_exchange(server.port(), raw), "");
  EXPECT_EQ(backlog(q), 1);
  // latency: answered, late, and marked.
  auto slow = ok("POST", "/_flareq/faults",
                 R"({"route":"push","action":"latency","latency_ms":50,"times":1})");
  auto started = std::chrono::steady_clock::now();
  auto r = client.post(push, body);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(50));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.headers["x-flareq-fault"], std::string(slow.at("id").as_string()));
  // Spent rules stay listed with their counts; only a matching queue fires.
  ok("POST", "/_flareq/faults",
     R"({"route":"pull","queue_id":"elsewhere","action":"error","status":429,"code":971})");
  EXPECT_EQ(pull(q).size(), 2u);
  auto rules = ok("GET", "/_flareq/faults", "").as_array();
  ASSERT_EQ(rules.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rules[i].at("fired"), 1);
  EXPECT_EQ(rules[3].at("fired"), 0);
  // HEAD is a GET: GET rules answer it too.
  ok("POST", "/_flareq/faults",
     R"({"route":"queue","method":"GET","action":"error","status":503,"times":1})");
  std::string head = raw_exchange(server.port(), "HEAD " + base + "/" + q +
                                                     " HTTP/1.1\r\nHost: x\r\nAuthorization: "
                                                     "Bearer t\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 503")) << head;
  EXPECT_NE(head.find("X-Flareq-Fault: 5"), std::string::npos) << head;
  ok("DELETE", "/_flareq/faults/5", "");
  ok("DELETE", "/_flareq/faults/4", "");
  EXPECT_EQ(client.request("DELETE", "/_flareq/faults/4").status, 404u);
  EXPECT_EQ(ok("DELETE", "/_flareq/faults", "").at("deleted"), 3);
  EXPECT_EQ(client.post("/_flareq/faults", R"({"route":"nope","action":"error"})").status, 400u);
  EXPECT_EQ(client.post("/_flareq/faults", R"({"action":"explode"})").status, 400u);
  EXPECT_EQ(client.post("/_flareq/faults", R"({"action":"error","probability":2})").status, 400u);
  EXPECT_EQ(client.post("/_flareq/faults", R"({"action":"latency"})").status, 400u);
}

TEST_F(seeded, a_pending_latency_fault_does_not_hold_up_a_stop) {
  ok("POST", "/_flareq/faults", R"({"route":"queues","action":"latency","latency_ms":600000})");
  std::thread slow([port = server.port()] {
    http_client own(port);
    EXPECT_EQ(own.request("GET", base).status, 200u) << "answered, early";
  });
  while (ok("GET", "/_flareq/faults", "").as_array().at(0).at("fired") != 1) {
    std::this_thread::yield();
  }
  auto started = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  slow.join();
}

class declared : public harness {
 protected:
  declared() : harness([](config& c) { c.queues = {{"orders", "orders"}}; }) {}
};

// Declared queues deleted in this run stay deleted until the next start:
// that is the run's, not the snapshot's.
TEST_F(declared, a_restore_keeps_this_runs_deleted_declared_queues) {
  ok("GET", base + "/orders", "");
  ok("DELETE", base + "/orders", "");
  ok("POST", "/_flareq/snapshots", R"({"name":"without"})");
  server.restart();
  http_client again(server.port());
  EXPECT_EQ(again.request("GET", base + "/orders").status, 200u) << "declared again";
  ASSERT_EQ(again.post("/_flareq/snapshots/without/restore", "").status, 200u);
  EXPECT_EQ(again.request("GET", base + "/orders").status, 200u)
      << "the earlier run's deletion does not come back";
  ASSERT_EQ(again.post("/_flareq/snapshots", R"({"name":"with"})").status, 200u);
  EXPECT_EQ(again.request("DELETE", base + "/orders").status, 200u);
  ASSERT_EQ(again.post("/_flareq/snapshots/with/restore", "").status, 200u);
  EXPECT_EQ(again.request("DELETE", base + "/orders").status, 200u) << "deleted twice in a run";
  EXPECT_EQ(again.request("GET", base + "/orders").status, 404u);
}

class capped : public harness {
 protected:
  capped() : harness([](config& c) { c.max_db_bytes = 4'000'000; }) {}
};

// Under --max-db-bytes the journal yields to messages, but its ids go on:
// none is given to two events.
TEST_F(capped, event_ids_never_start_again_when_the_journal_yields_its_room) {
  std::string q = queue("big");
  std::string body = R"({"content_type":"text","body":")" + std::string(60'000, 'x') + R"("})";
  std::int64_t first_max = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = client.post(base + "/" + q + "/messages", body);
    if (r.status != 200) break;
    if (i == 0) {
      first_max = ok("GET", "/_flareq/events", "").at(0).at("id").as_int64();
    }
  }
  auto kept = ok("GET", "/_flareq/events?limit=1000", "").as_array();
  ASSERT_FALSE(kept.empty()) << "the newest event stays";
  std::int64_t newest = kept.back().at("id").as_int64();
  EXPECT_GT(newest, 10);
  // Room again: acks free the space, and the events go on after the newest.
  for (auto batch = pull(q); !batch.empty(); batch = pull(q)) {
    std::string acks;
    for (const auto& m : batch) {
      acks += std::string(acks.empty() ? "" : ",") + R"({"lease_id":")" +
              std::string(m.at("lease_id").as_string()) + "\"}";
    }
    ok("POST", base + "/" + q + "/messages/ack", "{\"acks\":[" + acks + "]}");
  }
  ok("POST", base + "/" + q + "/messages", R"({"body":"small","content_type":"text"})");
  auto events = ok("GET", "/_flareq/events?limit=1000", "").as_array();
  ASSERT_GT(events.size(), 1u);
  for (const auto& e : events) EXPECT_GE(e.at("id").as_int64(), first_max);
  EXPECT_EQ(events.back().at("type"), "pushed");
  EXPECT_GT(events.back().at("id").as_int64(), newest) << "ids went on from the newest";
}

// ---- 2. reproducible runs ------------------------------------------------------

// One scripted session against the real binary on --seed 7 and a manual
// clock; returns every byte of every answer (one connection per request).
std::string scripted_session() {
  temp_dir dir;
  process p(flareq_binary(), {"--port", "0", "--db", dir.file("flareq.db"), "--seed", "7",
                              "--clock", "manual:1795981552000", "--log-level", "warn"});
  std::uint16_t port = p.wait_for_port();
  EXPECT_NE(port, 0) << p.output();
  if (port == 0) return "";
  std::string transcript;
  auto send = [&](std::string_view method, const std::string& target, const std::string& body) {
    std::string request = std::string(method) + " " + target +
                          " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nConnection: "
                          "close\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
    std::string answer = raw_exchange(port, request);
    transcript += answer;
    return answer;
  };
  auto field = [](const std::string& answer, const std::string& name) {
    std::size_t at = answer.find("\"" + name + "\":\"");
    if (at == std::string::npos) return std::string();
    at += name.size() + 4;
    return answer.substr(at, answer.find('"', at) - at);
  };
  std::string q = field(send("POST", base, R"({"queue_name":"replay"})"), "queue_id");
  std::string qb = base + "/" + q;
  send("POST", qb + "/consumers", R"({"type":"http_pull","settings":{"max_retries":5}})");
  send("POST", qb + "/messages", R"({"body":"one","content_type":"text"})");
  send("POST", qb + "/messages", R"({"body":{"n":2},"content_type":"json","delay_seconds":30})");
  send("POST", qb + "/messages/batch", R"({"messages":[{"body":"a"},{"body":"b"}]})");
  std::string lease = field(send("POST", qb + "/messages/pull", R"({"batch_size":2})"), "lease_id");
  send("POST", qb + "/messages/ack", R"({"retries":[{"lease_id":")" + lease + "\"}]}");
  send("POST", "/_flareq/clock", R"({"advance_ms":30000})");
  send("POST", qb + "/messages/pull", R"({"batch_size":10,"visibility_timeout_ms":1000})");
  send("POST", "/_flareq/faults", R"({"route":"push","action":"error","probability":0.5})");
  for (int i = 0; i < 6; ++i)
    send("POST", qb + "/messages", R"({"body":"x","content_type":"text"})");
  send("POST", "/_flareq/snapshots", R"({"name":"mid"})");
  send("GET", "/_flareq/snapshots", "");
  send("POST", "/_flareq/clock", R"({"advance_ms":2000})");
  send("GET", qb + "/metrics", "");
  send("GET", base, "");
  send("GET", "/_flareq/events?limit=1000", "");
  send("GET", "/_flareq/clock", "");
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0) << p.output();
  return transcript;
}

TEST(replay, the_same_requests_on_the_same_seed_and_clock_get_the_same_bytes) {
  std::string first = scripted_session();
  std::string second = scripted_session();
  EXPECT_NE(first.find("lease_id"), std::string::npos) << first;
  EXPECT_NE(first.find("lease_expired"), std::string::npos) << first;
  EXPECT_NE(first.find("X-Flareq-Fault"), std::string::npos) << first;
  EXPECT_NE(first.find("Date: Sun, 29 Nov 2026 19:46:24 GMT"), std::string::npos) << first;
  EXPECT_GT(first.size(), 10'000u);
  EXPECT_TRUE(first == second) << "the transcripts differ:\n" << first << "\n----\n" << second;
}

TEST(replay, the_system_clock_cannot_be_moved) {
  temp_dir dir;
  process p(flareq_binary(), {"--port", "0", "--db", dir.file("flareq.db"), "--log-level", "warn"});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  http_client client(port);
  EXPECT_EQ(client.request("GET", "/_flareq/clock").json().at("result").at("mode"), "system");
  auto r = client.post("/_flareq/clock", R"({"advance_ms":1000})");
  EXPECT_EQ(r.status, 409u) << r.body;
  EXPECT_NE(r.body.find("--clock manual"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace flareq::test
