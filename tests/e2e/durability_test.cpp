// Durability on disk: the WAL stays bounded under sustained load and under
// --max-db-bytes, a restart after SIGKILL starts on an empty WAL, a clean
// stop checkpoints (and says so) before "stopped cleanly", a database file
// deleted while flareq runs refuses storage instead of losing it, and a
// read-only file stops start-up.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "storage/database.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_server.hpp"

namespace flareq::test {
namespace {

namespace fs = std::filesystem;

// The size of a file, 0 when it does not exist.
std::uintmax_t size_of(const std::string& path) {
  std::error_code ec;
  std::uintmax_t n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

std::int64_t stored_rows(const std::string& db) {
  storage::database check = storage::database::open(db);
  auto q = check.prepare("SELECT count(*) FROM messages");
  q->step();
  return q->column_int64(0);
}

std::string text_message(std::size_t bytes) {
  return R"({"content_type":"text","body":")" + std::string(bytes, 'd') + "\"}";
}

// Pushes n text messages of the given size to queue; returns how many got 200.
int pushed(http_client& client, const std::string& queue, int n, std::size_t bytes) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    if (client.post(push_path("acc", queue), text_message(bytes)).status == 200) ++ok;
  }
  return ok;
}

// ~100 MB from four clients at once: without checkpoints that work, the WAL
// would hold all of it. flareq restarts the WAL when a commit leaves more
// than 32 MiB in it (half of its 64 MiB share).
TEST(durability, the_wal_stays_bounded_under_sustained_load) {
  test_server server(lenient);
  std::string wal = server.db_path() + "-wal";
  constexpr int clients = 4;
  constexpr int pushes = 210;  // each, of 120,000 bytes: 100.8 MB
  std::atomic<std::uintmax_t> largest{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      http_client client(server.port());
      std::string body = text_message(120'000);
      for (int i = 0; i < pushes; ++i) {
        if (client.post(push_path("acc", "big"), body).status != 200) failures++;
        std::uintmax_t now = size_of(wal);
        std::uintmax_t seen = largest.load();
        while (now > seen && !largest.compare_exchange_weak(seen, now)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::uintmax_t db_size = size_of(server.db_path());
  server.stop();
  EXPECT_LE(largest.load(), 34u << 20) << "largest WAL seen";
  EXPECT_GT(largest.load(), 0u);
  EXPECT_GE(db_size, 50u << 20) << "checkpoints copy the WAL into the database file";
  EXPECT_EQ(stored_rows(server.db_path()), clients * pushes);
}

// Churn (push, pull, ack) at a 256 KiB cap: the database file and its WAL
// together stay under the cap, and churn goes on working.
TEST(durability, max_db_bytes_counts_the_wal_too) {
  constexpr std::uintmax_t cap = 256 * 1024;
  test_server server([](config& c) {
    c.lenient = true;
    c.max_db_bytes = cap;
  });
  http_client client(server.port());
  std::string wal = server.db_path() + "-wal";
  std::uintmax_t largest = 0;
  const std::string base = "/client/v4/accounts/acc/queues/churn/messages";
  for (int i = 0; i < 1500; ++i) {
    auto pushed = client.post(push_path("acc", "churn"), text_message(2'000));
    ASSERT_EQ(pushed.status, 200u) << i << " " << pushed.body;
    auto pulled = client.post(base + "/pull", R"({"batch_size":1})").json();
    auto lease = pulled.at("result").at("messages").at(0).at("lease_id").as_string();
    auto ack = R"({"acks":[{"lease_id":")" + std::string(lease) + "\"}]}";
    ASSERT_EQ(client.post(base + "/ack", ack).status, 200u) << i;
    largest = std::max(largest, size_of(server.db_path()) + size_of(wal));
  }
  EXPECT_LE(largest, cap) << "largest database + WAL seen";
}

TEST(durability, restart_after_sigkill_starts_on_an_empty_wal_and_stop_checkpoints_first) {
  temp_dir dir;
  std::string db = dir.file("flareq.db");
  {
    process p(flareq_binary(), {"--lenient", "--port", "0", "--db", db});
    std::uint16_t port = p.wait_for_port();
    ASSERT_NE(port, 0) << p.output();
    http_client client(port);
    ASSERT_EQ(pushed(client, "q", 50, 1'000), 50);
    p.send_signal(SIGKILL);
    p.wait();
  }
  EXPECT_GT(size_of(db + "-wal"), 0u) << "SIGKILL leaves the WAL behind";
  process p(flareq_binary(), {"--lenient", "--port", "0", "--db", db});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  EXPECT_EQ(size_of(db + "-wal"), 0u) << "start-up checkpoints what the crash left";
  http_client client(port);
  auto metrics = client.request("GET", "/client/v4/accounts/acc/queues/q/metrics").json();
  EXPECT_EQ(metrics.at("result").at("backlog_count"), 50);
  ASSERT_EQ(client.post(push_path("acc", "q"), text_message(1'000)).status, 200u);
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0) << p.output();
  std::string out = p.output();
  auto checkpoint = out.find("final checkpoint done");
  auto stopped = out.find("stopped cleanly");
  ASSERT_NE(checkpoint, std::string::npos) << out;
  ASSERT_NE(stopped, std::string::npos) << out;
  EXPECT_LT(checkpoint, stopped) << out;
  EXPECT_EQ(size_of(db + "-wal"), 0u) << "the WAL is empty after a clean stop";
  EXPECT_EQ(stored_rows(db), 51);
}

TEST(durability, a_database_file_deleted_while_running_refuses_storage) {
  temp_dir dir;
  std::string db = dir.file("flareq.db");
  process p(flareq_binary(), {"--lenient", "--port", "0", "--db", db});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  http_client client(port);
  ASSERT_EQ(client.post(push_path("acc", "q"), text_message(10)).status, 200u);
  fs::remove(db);
  auto push = client.post(push_path("acc", "q"), text_message(10));
  EXPECT_EQ(push.status, 500u) << push.body;
  auto error = push.json().at("errors").at(0);
  EXPECT_EQ(error.at("code"), 15000);
  EXPECT_NE(std::string(error.at("message").as_string()).find("was deleted, moved or replaced"),
            std::string::npos)
      << push.body;
  EXPECT_EQ(client.request("GET", "/client/v4/accounts/acc/queues/q/metrics").status, 500u);
  EXPECT_EQ(client.request("GET", "/readyz", "", {}).status, 503u);
  // The scrape still answers, and says that storage is down.
  auto scrape = client.request("GET", "/metrics", "", {});
  EXPECT_EQ(scrape.status, 200u);
  EXPECT_NE(scrape.body.find("\nflareq_storage_up 0\n"), std::string::npos) << scrape.body;
  EXPECT_NE(scrape.body.find("flareq_http_requests_total{route=\"push\",status=\"500\"} 1"),
            std::string::npos)
      << scrape.body;
  p.send_signal(SIGTERM);
  p.wait();
  std::string out = p.output();
  EXPECT_NE(out.find("ERROR the database file " + db + " was deleted, moved or replaced"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(db)) << "nothing pretends to be the old database";
}

// A database file replaced by another while flareq runs: storage is
// refused, the stop exits 1, and the next start finds the new file intact
// (no stale WAL of the old one replayed into it).
TEST(durability, a_database_file_replaced_while_running_is_not_corrupted) {
  temp_dir dir;
  std::string db = dir.file("flareq.db");
  std::string other = dir.file("other.db");
  {
    process b(flareq_binary(), {"--lenient", "--port", "0", "--db", other});
    std::uint16_t port = b.wait_for_port();
    ASSERT_NE(port, 0) << b.output();
    ASSERT_EQ(http_client(port).post(push_path("acc", "qb"), text_message(10)).status, 200u);
    b.send_signal(SIGTERM);
    ASSERT_EQ(b.wait(), 0) << b.output();
  }
  process p(flareq_binary(), {"--lenient", "--port", "0", "--db", db});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  http_client client(port);
  ASSERT_EQ(pushed(client, "qa", 50, 1'000), 50);
  fs::rename(other, db);
  EXPECT_EQ(client.post(push_path("acc", "qa"), text_message(10)).status, 500u);
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 1) << p.output();
  EXPECT_NE(p.output().find("what it held went with the old file"), std::string::npos)
      << p.output();
  EXPECT_EQ(size_of(db + "-wal"), 0u) << "a stale WAL would be replayed into the new file";
  storage::database check = storage::database::open(db);
  auto ok = check.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(ok->step());
  EXPECT_EQ(ok->column_text(0), "ok");
  auto queues = check.prepare("SELECT group_concat(queue_id || '/' || queue_name) FROM queues");
  ASSERT_TRUE(queues->step());
  EXPECT_EQ(queues->column_text(0), "qb/qb");
  EXPECT_EQ(stored_rows(db), 1);
}

// The WAL deleted while flareq runs: storage is refused, what the WAL held
// is copied into the database file at once, so a crash loses nothing.
TEST(durability, a_wal_deleted_while_running_is_copied_in_and_refused) {
  temp_dir dir;
  std::string db = dir.file("flareq.db");
  {
    process p(flareq_binary(), {"--lenient", "--port", "0", "--db", db});
    std::uint16_t port = p.wait_for_port();
    ASSERT_NE(port, 0) << p.output();
    http_client client(port);
    ASSERT_EQ(pushed(client, "q", 5, 100), 5);
    fs::remove(db + "-wal");
    auto refused = client.post(push_path("acc", "q"), text_message(100));
    EXPECT_EQ(refused.status, 500u) << refused.body;
    EXPECT_NE(refused.body.find("-wal was deleted"), std::string::npos) << refused.body;
    EXPECT_EQ(client.request("GET", "/readyz", "", {}).status, 503u);
    // A new file at the WAL's path is not the WAL SQLite writes to.
    std::FILE* touched = std::fopen((db + "-wal").c_str(), "w");
    ASSERT_NE(touched, nullptr);
    std::fclose(touched);
    EXPECT_EQ(client.post(push_path("acc", "q"), text_message(100)).status, 500u);
    p.send_signal(SIGKILL);
    p.wait();
    EXPECT_NE(p.output().find("what the WAL held was copied into the file flareq has open"),
              std::string::npos)
        << p.output();
  }
  EXPECT_EQ(stored_rows(db), 5);
}

// A --db that is a symlink: SQLite keeps the WAL beside the real file, and
// flareq watches that one.
TEST(durability, a_symlinked_database_path_works) {
  temp_dir dir;
  fs::create_directory(dir.path() / "real");
  std::string link = dir.file("link.db");
  fs::create_symlink(dir.path() / "real" / "f.db", link);
  process p(flareq_binary(), {"--lenient", "--port", "0", "--db", link});
  std::uint16_t port = p.wait_for_port();
  ASSERT_NE(port, 0) << p.output();
  http_client client(port);
  EXPECT_EQ(pushed(client, "q", 5, 100), 5);
  EXPECT_EQ(client.request("GET", "/readyz", "", {}).status, 200u);
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0) << p.output();
  EXPECT_EQ(stored_rows(dir.file("real/f.db")), 5);
}

// Another program's open read transaction keeps the WAL from restarting:
// pushes then stop at the WAL's share of the cap instead of growing it
// without bound, and go on once the reader is done.
TEST(durability, an_outside_reader_cannot_push_the_wal_past_the_cap) {
  constexpr std::uintmax_t cap = 256 * 1024;
  test_server server([](config& c) {
    c.lenient = true;
    c.max_db_bytes = cap;
  });
  http_client client(server.port());
  ASSERT_EQ(client.post(push_path("acc", "q"), text_message(100)).status, 200u);
  std::string wal = server.db_path() + "-wal";
  unsigned refused = 0;
  std::uintmax_t largest = 0;
  {
    storage::database reader = storage::database::open(server.db_path());
    reader.exec("BEGIN");
    reader.exec("SELECT count(*) FROM messages");
    const std::string base = "/client/v4/accounts/acc/queues/q/messages";
    for (int i = 0; i < 600 && refused == 0; ++i) {
      auto r = client.post(push_path("acc", "q"), text_message(1'000));
      if (r.status != 200) {
        EXPECT_EQ(r.status, 500u);
        EXPECT_NE(r.body.find("WAL is past its share"), std::string::npos) << r.body;
        ++refused;
      }
      largest = std::max(largest, size_of(server.db_path()) + size_of(wal));
    }
    reader.exec("COMMIT");
  }
  EXPECT_EQ(refused, 1u) << "the WAL never reached its share";
  EXPECT_LE(largest, cap + 64 * 1024) << "largest database + WAL seen";
  // The reader is gone: the very next push finds the WAL emptied.
  EXPECT_EQ(client.post(push_path("acc", "q"), text_message(10)).status, 200u);
  EXPECT_LE(size_of(wal), cap / 8 + 64 * 1024);
}

// The Docker case: a volume the server's user may write to, holding a
// database file that belongs to root. As root, the server runs as nobody.
TEST(durability, a_read_only_database_file_stops_start_up_with_exit_2) {
  temp_dir dir;
  std::string db = dir.file("flareq.db");
  {
    process first(flareq_binary(), {"--lenient", "--port", "0", "--db", db});
    ASSERT_NE(first.wait_for_port(), 0) << first.output();
    first.send_signal(SIGTERM);
    ASSERT_EQ(first.wait(), 0) << first.output();
  }
  std::vector<std::string> args = {"--lenient", "--port", "0", "--db", db};
  std::string binary = flareq_binary();
  std::string user;
  if (geteuid() == 0) {
    ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
    ASSERT_EQ(chmod(db.c_str(), 0644), 0);
    args.insert(args.begin(),
                {"--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", binary});
    binary = "/usr/bin/setpriv";
    user = "nobody (uid ";
  } else {
    ASSERT_EQ(chmod(db.c_str(), 0444), 0);
    user = "(uid " + std::to_string(geteuid()) + ")";
  }
  process p(binary, args);
  EXPECT_EQ(p.wait(), 2) << p.output();
  std::string out = p.output();
  EXPECT_NE(out.find("the file " + db + " is read-only: "), std::string::npos) << out;
  EXPECT_NE(out.find(user), std::string::npos) << out;
  EXPECT_EQ(out.find("listening"), std::string::npos) << out;
  if (geteuid() != 0) return;
  // A folder the user cannot write: no database can be made in it.
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  args[args.size() - 1] = dir.file("new.db");
  process folder(binary, args);
  EXPECT_EQ(folder.wait(), 2) << folder.output();
  EXPECT_NE(folder.output().find("nobody (uid "), std::string::npos) << folder.output();
  EXPECT_NE(folder.output().find("must be able to write " + dir.file("new.db")), std::string::npos)
      << folder.output();
}

}  // namespace
}  // namespace flareq::test
