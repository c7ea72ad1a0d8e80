// Crash safety: clients push, pull and acknowledge while the real flareq
// binary is killed with SIGKILL at random moments and restarted on the same
// database file. After each kill, every push that got a 200 is stored
// (unless it was acknowledged since), every acknowledgement that got a 200
// stays deleted, and PRAGMA integrity_check says ok. (An acknowledgement
// that was sent but whose answer the kill swallowed may or may not have
// been applied: such a message may be gone.)
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace flareq::test {
namespace {

struct ledger {
  std::mutex mutex;
  std::set<std::string> pushed;              // bodies whose push got a 200
  std::map<std::string, std::string> id_of;  // body -> message id, from pulls
  std::set<std::string> acked;               // message ids whose ack got a 200
  std::set<std::string> ack_sent;            // message ids whose ack was sent
  std::int64_t pushes = 0;
  std::int64_t acks = 0;
};

const std::string queue_path = "/client/v4/accounts/acc/queues/crash/messages";

void pusher(std::uint16_t port, int round, int t, const std::atomic<bool>& stop, ledger& book) {
  try {
    http_client client(port);
    for (int i = 0; !stop.load(); ++i) {
      std::string body =
          "r" + std::to_string(round) + "-t" + std::to_string(t) + "-" + std::to_string(i);
      auto r = client.post(queue_path, R"({"content_type":"text","body":")" + body + R"("})");
      if (r.status != 200) continue;
      std::lock_guard lock(book.mutex);
      book.pushed.insert(body);
      book.pushes++;
    }
  } catch (const std::exception&) {
    // The server was killed under us: this round is over.
  }
}

void consumer(std::uint16_t port, const std::atomic<bool>& stop, ledger& book) {
  try {
    http_client client(port);
    while (!stop.load()) {
      auto r =
          client.post(queue_path + "/pull", R"({"batch_size":10,"visibility_timeout_ms":600000})");
      if (r.status != 200) continue;
      auto v = r.json();
      for (const auto& m : v.at("result").at("messages").as_array()) {
        std::string id(m.at("id").as_string());
        {
          // Sent, its answer may be lost to a kill: then the message may
          // rightly be gone.
          std::lock_guard lock(book.mutex);
          book.id_of[std::string(m.at("body").as_string())] = id;
          book.ack_sent.insert(id);
        }
        auto a = client.post(
            queue_path + "/ack",
            R"({"acks":[{"lease_id":")" + std::string(m.at("lease_id").as_string()) + R"("}]})");
        if (a.status == 200 && a.json().at("result").at("ackCount") == 1) {
          std::lock_guard lock(book.mutex);
          book.acked.insert(id);
          book.acks++;
        }
      }
    }
  } catch (const std::exception&) {
  }
}

TEST(crash, sigkill_at_random_moments_loses_and_resurrects_nothing) {
  const int rounds = 24;
  unsigned seed = 20261129;
  if (const char* s = std::getenv("FLAREQ_CRASH_SEED")) seed = static_cast<unsigned>(std::atoi(s));
  std::mt19937 random(seed);
  temp_dir dir;
  std::string db_path = dir.file("crash.db");
  ledger book;
  std::int64_t kills = 0, lost = 0, resurrected = 0;
  for (int round = 0; round < rounds; ++round) {
    process p(flareq_binary(),
              {"--lenient", "--port", "0", "--db", db_path, "--log-level", "warn"});
    std::uint16_t port = p.wait_for_port();
    ASSERT_NE(port, 0) << p.output();
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 2; ++t) {
      clients.emplace_back(pusher, port, round, t, std::cref(stop), std::ref(book));
    }
    clients.emplace_back(consumer, port, std::cref(stop), std::ref(book));
    // The random moment: the clients work on the real process meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + random() % 270));
    p.send_signal(SIGKILL);
    EXPECT_EQ(p.wait(), 128 + SIGKILL);
    stop = true;
    for (auto& t : clients) t.join();
    ++kills;

    // The process is dead: read the file as the next start will.
    storage::database db = storage::database::open(db_path);
    auto check = db.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check->step());
    EXPECT_EQ(check->column_text(0), "ok") << "round " << round;
    std::set<std::string> stored_bodies, stored_ids;
    auto rows = db.prepare("SELECT seq, id_tail, body FROM messages");
    while (rows->step()) {
      stored_ids.emplace(storage::message_id(rows->column_int64(0), rows->column_int64(1)));
      stored_bodies.emplace(rows->column_text(2));
    }
    std::lock_guard lock(book.mutex);
    lost = 0;
    resurrected = 0;
    for (const std::string& body : book.pushed) {
      auto id = book.id_of.find(body);
      bool was_acked = id != book.id_of.end() && book.ack_sent.count(id->second) != 0;
      if (!was_acked && stored_bodies.count(body) == 0) ++lost;
    }
    for (const std::string& id : book.acked) {
      if (stored_ids.count(id) != 0) ++resurrected;
    }
    EXPECT_EQ(lost, 0) << "round " << round;
    EXPECT_EQ(resurrected, 0) << "round " << round;
  }
  std::printf("crash test (seed %u): pushes=%lld acks=%lld kills=%lld lost=%lld resurrected=%lld\n",
              seed, static_cast<long long>(book.pushes), static_cast<long long>(book.acks),
              static_cast<long long>(kills), static_cast<long long>(lost),
              static_cast<long long>(resurrected));
  EXPECT_GE(kills, 20);
  EXPECT_GT(book.pushes, 100);
  EXPECT_GT(book.acks, 10);
}

}  // namespace
}  // namespace flareq::test
