// Leases, property-style: many random interleavings of push, pull, ack,
// retry and the passing of time on a fake clock, each step checked against a
// small reference model of the rules (decisions.md, Pull, ack, retry):
// - an ack by any lease the message was given deletes it, unless another,
//   unexpired lease holds it now;
// - only the current, unexpired lease retries it;
// - while a lease is current, nothing else makes the message deliverable or
//   removes it.
// The seed is printed; FLAREQ_PROPERTY_SEED=N replays a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/migrate.hpp"
#include "storage/queue_store.hpp"

namespace flareq::storage {
namespace {

constexpr std::int64_t start_us = 1'795'981'552'123'456;
constexpr std::int64_t max_retries = 2;

// What the rules say a message is.
struct model_message {
  std::string id;
  std::int64_t seq = 0;
  std::int64_t attempts = 0;
  std::int64_t visible_at_ms = 0;
  std::optional<std::string> lease;  // the nonce of the last lease, until a retry ends it
  std::set<std::string> history;     // every nonce it was given
};

class model {
 public:
  std::map<std::string, model_message> messages;  // by id
  std::int64_t next_seq = 1;

  bool held(const model_message& m, std::int64_t now_ms) const {
    return m.lease && m.visible_at_ms > now_ms;
  }

  // The ids pull hands out, in order, leasing them; exhausted messages go.
  std::vector<std::string> pull(std::int64_t now_ms, std::int64_t batch, std::int64_t timeout) {
    std::vector<const model_message*> ready;
    for (const auto& [id, m] : messages) {
      if (m.visible_at_ms <= now_ms) ready.push_back(&m);
    }
    std::sort(ready.begin(), ready.end(), [](const model_message* a, const model_message* b) {
      return std::tie(a->visible_at_ms, a->seq) < std::tie(b->visible_at_ms, b->seq);
    });
    std::vector<std::string> ids;
    for (const model_message* m : ready) ids.push_back(m->id);
    std::vector<std::string> out;
    for (const std::string& id : ids) {
      if (static_cast<std::int64_t>(out.size()) == batch) break;
      model_message& m = messages.at(id);
      if (m.attempts > max_retries) {
        messages.erase(id);
        continue;
      }
      m.attempts += 1;
      m.visible_at_ms = now_ms + timeout;
      out.push_back(id);
    }
    return out;
  }

  // Applies an ack call; returns {acked, retried, warnings}.
  std::tuple<std::int64_t, std::int64_t, std::size_t> ack(
      std::int64_t now_ms, const std::vector<std::string>& acks,
      const std::vector<std::pair<std::string, std::int64_t>>& retries) {
    std::int64_t acked = 0;
    std::int64_t retried = 0;
    std::size_t warnings = 0;
    std::set<std::string> done;
    // The message a lease id names, when it was given that lease.
    auto resolve = [&](const std::string& lease_id) -> model_message* {
      std::optional<std::string> id = lease_message_id(lease_id);
      if (!id || !messages.contains(*id)) return nullptr;
      model_message& m = messages.at(*id);
      if (!m.history.contains(lease_id.substr(id->size() + 1))) return nullptr;
      return &m;
    };
    auto is_current = [&](const model_message& m, const std::string& lease_id) {
      return held(m, now_ms) && *m.lease == lease_id.substr(m.id.size() + 1);
    };
    for (const std::string& lease_id : acks) {
      model_message* m = resolve(lease_id);
      if (m == nullptr || (held(*m, now_ms) && !is_current(*m, lease_id)) ||
          !done.insert(m->id).second) {
        warnings++;
        continue;
      }
      messages.erase(m->id);
      acked++;
    }
    for (const auto& [lease_id, delay] : retries) {
      model_message* m = resolve(lease_id);
      if (m == nullptr || !is_current(*m, lease_id) || !done.insert(m->id).second) {
        warnings++;
        continue;
      }
      if (m->attempts > max_retries) {
        messages.erase(m->id);
      } else {
        m->visible_at_ms = now_ms + delay * 1000;
        m->lease.reset();
      }
      retried++;
    }
    return {acked, retried, warnings};
  }
};

std::uint64_t property_seed() {
  if (const char* text = std::getenv("FLAREQ_PROPERTY_SEED"); text != nullptr && *text != 0) {
    return std::strtoull(text, nullptr, 10);
  }
  return std::random_device{}();
}

// One random run: ops steps on a fresh store, checked against the model
// after each step. Returns false (after a gtest failure) at the first mismatch.
void run_once(std::uint64_t seed, int ops) {
  SCOPED_TRACE("run seed " + std::to_string(seed));
  database db = database::open(":memory:");
  migrate(db);
  fake_clock clock(start_us);
  seeded_random random(seed);
  queue_store store(db, clock, random, {});
  store.create_queue("acc", "props", {});
  std::string queue = store.list_queues("acc", {"props"}, 1, 1).queues.at(0).queue_id;
  consumer_input pull_consumer;
  pull_consumer.type = consumer_type::http_pull;
  pull_consumer.settings.max_retries = max_retries;
  store.create_consumer("acc", queue, pull_consumer);

  std::mt19937_64 rng(seed);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  model expected;
  std::vector<std::string> issued;  // every lease id pull handed out

  // A lease id to send: mostly one that was issued, sometimes a forgery.
  auto some_lease = [&]() -> std::string {
    std::int64_t roll = pick(0, 19);
    if (issued.empty() || roll == 0) return "not-a-lease";
    std::string real = issued[static_cast<std::size_t>(pick(0, issued.size() - 1))];
    if (roll == 1) return real.substr(0, 33) + std::string(32, 'a');  // a nonce never given
    return real;
  };

  for (int step = 0; step < ops; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    std::int64_t now_ms = clock.now_ms();
    switch (pick(0, 4)) {
      case 0: {  // push
        std::vector<new_message> batch;
        std::int64_t n = pick(1, 3);
        for (std::int64_t i = 0; i < n; ++i) {
          batch.push_back({content_type::text, "m", pick(0, 3) == 0 ? 1 : 0});
        }
        store.push("acc", queue, batch);
        auto rows = store.messages("acc", queue);
        // The new rows are the last n in push order.
        for (std::size_t i = rows.size() - static_cast<std::size_t>(n); i < rows.size(); ++i) {
          model_message m;
          m.id = rows[i].id;
          m.seq = expected.next_seq++;
          m.visible_at_ms = now_ms + rows[i].delay_seconds * 1000;
          expected.messages[m.id] = m;
        }
        break;
      }
      case 1: {  // pull
        std::int64_t batch = pick(1, 4);
        std::int64_t timeout = pick(1, 3000);
        pull_result got = store.pull("acc", queue, batch, timeout);
        std::vector<std::string> want = expected.pull(now_ms, batch, timeout);
        ASSERT_EQ(got.messages.size(), want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
          const leased_message& lm = got.messages[i];
          ASSERT_EQ(lm.message.id, want[i]);
          model_message& m = expected.messages.at(want[i]);
          ASSERT_EQ(lm.message.attempts, m.attempts);
          std::string nonce = lm.lease_id.substr(m.id.size() + 1);
          m.lease = nonce;
          m.history.insert(nonce);
          issued.push_back(lm.lease_id);
        }
        break;
      }
      case 2:
      case 3: {  // ack and retry
        std::vector<std::string> acks;
        std::vector<retry_request> retries;
        std::vector<std::pair<std::string, std::int64_t>> model_retries;
        for (std::int64_t i = pick(0, 2); i > 0; --i) acks.push_back(some_lease());
        for (std::int64_t i = pick(0, 2); i > 0; --i) {
          std::int64_t delay = pick(0, 1);
          retries.push_back({some_lease(), delay});
          model_retries.emplace_back(retries.back().lease_id, delay);
        }
        ack_result got = store.ack("acc", queue, acks, retries);
        auto [acked, retried, warnings] = expected.ack(now_ms, acks, model_retries);
        ASSERT_EQ(got.ack_count, acked);
        ASSERT_EQ(got.retry_count, retried);
        ASSERT_EQ(got.warnings.size(), warnings);
        break;
      }
      case 4:  // time passes
        clock.advance_ms(pick(0, 2000));
        break;
    }
    // The whole queue agrees with the model after every step.
    auto rows = store.messages("acc", queue);
    ASSERT_EQ(rows.size(), expected.messages.size());
    for (const message_record& r : rows) {
      ASSERT_TRUE(expected.messages.contains(r.id)) << r.id;
      const model_message& m = expected.messages.at(r.id);
      ASSERT_EQ(r.attempts, m.attempts) << r.id;
      ASSERT_EQ(r.visible_at_ms, m.visible_at_ms) << r.id;
    }
    queue_metrics metrics = store.metrics("acc", queue);
    ASSERT_EQ(metrics.backlog_count, static_cast<std::int64_t>(expected.messages.size()));
    ASSERT_EQ(metrics.backlog_bytes, metrics.backlog_count);  // every body is "m"
  }
}

TEST(lease_property_test, random_interleavings_follow_the_lease_rules) {
  std::uint64_t seed = property_seed();
  std::cout << "lease property seed: " << seed << " (replay with FLAREQ_PROPERTY_SEED=" << seed
            << ")\n";
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 seeds(seed);
  for (int run = 0; run < 200; ++run) {
    run_once(seeds(), 120);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace flareq::storage
