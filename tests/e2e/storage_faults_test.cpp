// Storage faults: a full database answers 500/15000 for writes while reads
// go on, and writes work again once space is freed; a database file that
// cannot be used stops start-up with exit code 2 and is left untouched.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>

#include <algorithm>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/database.hpp"
#include "storage/migrate.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_server.hpp"

namespace flareq::test {
namespace {

const std::string base = "/client/v4/accounts/acc/queues";

TEST(storage_faults, full_database_refuses_writes_keeps_reads_and_recovers) {
  // Room for a handful of 20 KB messages: pushes stop at a third of what
  // the schema leaves of the file's share.
  test_server server([](config& c) {
    c.lenient = true;
    c.max_db_bytes = 1024 * 1024;
  });
  http_client client(server.port());
  std::string body = R"({"content_type":"text","body":")" + std::string(20'000, 'f') + "\"}";
  unsigned status = 200;
  int stored = 0;
  for (int i = 0; i < 200 && status == 200; ++i) {
    auto r = client.post(push_path("acc", "full"), body);
    status = r.status;
    if (status == 200) {
      ++stored;
    } else {
      EXPECT_EQ(r.status, 500u) << r.body;
      auto v = r.json();
      EXPECT_EQ(v.at("errors").at(0).at("code"), 15000);
      EXPECT_NE(std::string(v.at("errors").at(0).at("message").as_string()).find("full"),
                std::string::npos)
          << r.body;
    }
  }
  ASSERT_EQ(status, 500u) << "the database never filled up";
  ASSERT_GT(stored, 5);
  // Reads keep working, and the refused write left nothing behind.
  auto metrics = client.request("GET", base + "/full/metrics").json();
  EXPECT_EQ(metrics.at("result").at("backlog_count"), stored);
  EXPECT_EQ(client.request("GET", base + "/full").status, 200u);
  EXPECT_EQ(client.post(base + "/full/messages/peek", R"({"batch_size":3})").status, 200u);
  EXPECT_EQ(client.request("GET", "/readyz", "", {}).status, 200u);
  // Freeing space makes writes work again.
  EXPECT_EQ(client.post(base + "/full/purge", R"({"delete_messages_permanently":true})").status,
            200u);
  auto again = client.post(push_path("acc", "full"), body);
  EXPECT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(again.json().at("result").at("metadata").at("metrics").at("backlog_count"), 1);
}

// Pushes stop short of the cap, so that a full queue can still be drained:
// pull (whose leases grow rows) and ack work on a database full of small
// messages.
TEST(storage_faults, a_full_database_can_still_be_pulled_and_acked) {
  test_server server([](config& c) {
    c.lenient = true;
    c.max_db_bytes = 1024 * 1024;
  });
  http_client client(server.port());
  const std::string q = base + "/small";
  int stored = 0;
  for (int i = 0; i < 100'000; ++i) {
    auto r = client.post(push_path("acc", "small"), R"({"content_type":"text","body":"tiny"})");
    if (r.status != 200) {
      EXPECT_EQ(r.status, 500u) << r.body;
      break;
    }
    ++stored;
  }
  ASSERT_GT(stored, 1000) << "the database never filled up";
  for (int round = 0; round < 3; ++round) {
    auto pulled = client.post(q + "/messages/pull", R"({"batch_size":100})");
    ASSERT_EQ(pulled.status, 200u) << pulled.body;
    std::string acks;
    boost::json::value result = pulled.json();
    for (const auto& m : result.at("result").at("messages").as_array()) {
      if (!acks.empty()) acks += ",";
      acks += R"({"lease_id":")" + std::string(m.at("lease_id").as_string()) + "\"}";
    }
    auto acked = client.post(q + "/messages/ack", "{\"acks\":[" + acks + "]}");
    ASSERT_EQ(acked.status, 200u) << acked.body;
    EXPECT_EQ(acked.json().at("result").at("ackCount"), 100);
  }
  EXPECT_EQ(client.request("GET", q + "/metrics").json().at("result").at("backlog_count"),
            stored - 300);
  // Every message left can be leased at once, none acknowledged.
  int leased = 0;
  for (;;) {
    auto pulled =
        client.post(q + "/messages/pull", R"({"batch_size":100,"visibility_timeout_ms":600000})");
    ASSERT_EQ(pulled.status, 200u) << "after " << leased << " leases: " << pulled.body;
    boost::json::value result = pulled.json();
    auto n = static_cast<int>(result.at("result").at("messages").as_array().size());
    if (n == 0) break;
    leased += n;
  }
  EXPECT_EQ(leased, stored - 300);
}

// The smallest messages grow the most when leased (a lease nonce and its
// history in the row, a due-time index entry, a journal row): at every cap,
// a database that refuses pushes can still lease all it holds at once, and
// acknowledge it all.
TEST(storage_faults, every_message_of_a_full_database_can_be_leased_at_once) {
  for (std::size_t cap :
       {std::size_t{256 * 1024}, std::size_t{1024 * 1024}, std::size_t{4 * 1024 * 1024}}) {
    SCOPED_TRACE("cap " + std::to_string(cap));
    test_server server([cap](config& c) {
      c.lenient = true;
      c.max_db_bytes = cap;
    });
    http_client client(server.port());
    std::string batch = R"({"messages":[)";
    for (int i = 0; i < 10; ++i)
      batch += std::string(i ? "," : "") + R"({"body":"m","content_type":"text"})";
    batch += "]}";
    int stored = 0;
    for (;;) {
      auto r = client.post(base + "/one/messages/batch", batch);
      if (r.status != 200) {
        ASSERT_EQ(r.status, 500u) << r.body;
        break;
      }
      stored += 10;
    }
    ASSERT_GT(stored, 100);
    std::vector<std::string> leases;
    for (;;) {
      auto pulled = client.post(base + "/one/messages/pull",
                                R"({"batch_size":100,"visibility_timeout_ms":600000})");
      ASSERT_EQ(pulled.status, 200u) << "after " << leases.size() << " leases: " << pulled.body;
      boost::json::value result = pulled.json();
      const auto& messages = result.at("result").at("messages").as_array();
      if (messages.empty()) break;
      for (const auto& m : messages) leases.emplace_back(m.at("lease_id").as_string());
    }
    EXPECT_EQ(static_cast<int>(leases.size()), stored);
    for (std::size_t i = 0; i < leases.size(); i += 100) {
      std::string acks;
      for (std::size_t j = i; j < std::min(leases.size(), i + 100); ++j) {
        acks += std::string(acks.empty() ? "" : ",") + R"({"lease_id":")" + leases[j] + R"("})";
      }
      auto acked = client.post(base + "/one/messages/ack", "{\"acks\":[" + acks + "]}");
      ASSERT_EQ(acked.status, 200u) << acked.body;
    }
    EXPECT_EQ(client.request("GET", base + "/one/metrics").json().at("result").at("backlog_count"),
              0);
  }
}

// An upgrade rebuilds the messages table, holding it twice for a moment: a
// database that the previous schema filled to its push limit under the cap
// still starts, with every message.
TEST(storage_faults, a_full_database_of_an_older_schema_upgrades_under_its_cap) {
  temp_dir dir;
  const std::string path = dir.file("old.db");
  constexpr std::size_t cap = 1024 * 1024;  // the file's share: 768 KiB, 192 pages
  std::int64_t stored = 0;
  {
    storage::database old = storage::database::open(path);
    for (const storage::migration& m : storage::embedded_migrations()) {
      if (m.version <= 5) old.exec(m.sql);
    }
    old.exec("PRAGMA user_version = 5");
    old.exec(
        "INSERT INTO queues (account_id, queue_id, queue_name, created_us, modified_us) "
        "VALUES ('acc', 'full', 'full', 1, 1)");
    // Two thirds of the pages in use: where schema 5's pushes stopped.
    auto pages = old.prepare("SELECT page_count FROM pragma_page_count()");
    for (;;) {
      pages->step();
      std::int64_t in_use = pages->column_int64(0);
      pages->reset();
      if (in_use >= 192 * 2 / 3) break;
      old.exec("BEGIN");
      for (int i = 0; i < 20; ++i, ++stored) {
        old.exec(
            "INSERT INTO messages (id, account_id, queue_id, content_type, body, size_bytes, "
            "timestamp_ms, delay_seconds, visible_at_ms) VALUES (printf('%032x', " +
            std::to_string(stored + 1) + "), 'acc', 'full', 'text', '" + std::string(100, 'x') +
            "', 100, 1795981552000, 0, 0)");
      }
      old.exec("COMMIT");
    }
    old.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  ASSERT_GT(stored, 500);
  test_server server([&](config& c) {
    c.db = path;
    c.lenient = true;
    c.max_db_bytes = cap;
  });
  http_client client(server.port());
  EXPECT_EQ(client.request("GET", base + "/full/metrics").json().at("result").at("backlog_count"),
            stored);
  auto pulled = client.post(base + "/full/messages/pull", R"({"batch_size":100})");
  ASSERT_EQ(pulled.status, 200u) << pulled.body;
  EXPECT_EQ(pulled.json().at("result").at("messages").as_array().size(), 100u);
}

TEST(storage_faults, unusable_database_files_stop_start_up_with_exit_2) {
  temp_dir dir;
  std::filesystem::create_directory(dir.path() / "a-folder");
  std::string junk = dir.file("junk.db");
  std::string junk_text(4096, 'j');
  {
    std::FILE* f = std::fopen(junk.c_str(), "w");
    std::fwrite(junk_text.data(), 1, junk_text.size(), f);
    std::fclose(f);
  }
  for (const std::string& path : {dir.file("a-folder"), junk, std::string("/proc/flareq/x.db")}) {
    process p(flareq_binary(), {"--lenient", "--port", "0", "--db", path});
    EXPECT_EQ(p.wait(), 2) << path << "\n" << p.output();
    EXPECT_NE(p.output().find("flareq: database"), std::string::npos) << p.output();
    EXPECT_EQ(p.output().find("listening"), std::string::npos) << p.output();
  }
  // The junk file is exactly as it was, and nothing was created beside it.
  std::FILE* f = std::fopen(junk.c_str(), "r");
  std::string after(8192, '\0');
  after.resize(std::fread(after.data(), 1, after.size(), f));
  std::fclose(f);
  EXPECT_EQ(after, junk_text);
  EXPECT_FALSE(std::filesystem::exists(junk + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(junk + "-shm"));
}

// A database on a file system mounted read-only (a container's volume
// mounted with :ro) stops start-up with exit 2, naming the read-only mount,
// whether the file is there or not, and when the file itself is writable
// (bound read-write) but its folder, where the -wal and -shm go, is not.
// Needs mount(2): root, where the machine lets it mount; skipped otherwise.
// The mounts are made in a mount namespace of this test's process (and of
// the servers it starts), so they end with it, however it ends.
TEST(storage_faults, a_database_on_a_read_only_mount_is_named_as_such) {
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    GTEST_SKIP() << "cannot make a mount namespace here: " << std::strerror(errno);
  }
  temp_dir dir;
  const std::string ro = dir.file("ro"), spare = dir.file("spare");
  std::filesystem::create_directory(ro);
  std::filesystem::create_directory(spare);
  if (::mount("tmpfs", ro.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct unmount {
    std::vector<std::string> points;
    ~unmount() {
      for (auto it = points.rbegin(); it != points.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    }
  } mounted{{ro}};
  // A database with a message, on the tmpfs; and one in a writable folder,
  // bound over a file of the same folder.
  for (const std::string& path : {ro + "/there.db", spare + "/bound.db"}) {
    test_server server([&](config& c) {
      c.db = path;
      c.lenient = true;
    });
    http_client client(server.port());
    ASSERT_EQ(client.post(base + "/q/messages", R"({"body":"kept"})").status, 200u);
  }
  {
    std::FILE* f = std::fopen((ro + "/bound.db").c_str(), "w");
    ASSERT_NE(f, nullptr) << std::strerror(errno);
    std::fclose(f);
  }
  ASSERT_EQ(
      ::mount((spare + "/bound.db").c_str(), (ro + "/bound.db").c_str(), nullptr, MS_BIND, nullptr),
      0)
      << std::strerror(errno);
  mounted.points.push_back(ro + "/bound.db");
  ASSERT_EQ(::mount(nullptr, ro.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
      << std::strerror(errno);
  for (const std::string& path :
       {ro + "/there.db", ro + "/missing.db", ro + "/sub/missing.db", ro + "/bound.db"}) {
    process p(flareq_binary(), {"--lenient", "--port", "0", "--db", path});
    EXPECT_EQ(p.wait(), 2) << path << "\n" << p.output();
    EXPECT_NE(p.output().find(" is on a file system mounted read-only"), std::string::npos)
        << path << "\n"
        << p.output();
    EXPECT_EQ(p.output().find("listening"), std::string::npos) << p.output();
  }
}

}  // namespace
}  // namespace flareq::test
