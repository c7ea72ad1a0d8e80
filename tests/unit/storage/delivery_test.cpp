// Delivery, straight against storage on a fake clock (no server): pull
// order, leases and their expiry, ack, retry with a delay, dead-lettering,
// retention, peek and purge.
#include <gtest/gtest.h>

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
constexpr std::int64_t start_ms = start_us / 1000;

class delivery_test : public ::testing::Test {
 protected:
  delivery_test() : db(database::open(":memory:")), clock(start_us), random(7) {
    migrate(db);
    store = std::make_unique<queue_store>(db, clock, random, store_options{});
    queue = store->create_queue("acc", "work", {}).queue_id;
    consumer_input c;
    c.type = consumer_type::http_pull;
    c.dead_letter_queue = "work-dlq";
    c.settings.max_retries = 1;
    c.settings.retry_delay = 5;
    c.settings.visibility_timeout_ms = 10'000;
    store->create_consumer("acc", queue, c);
  }

  void push(const std::string& body, std::optional<std::int64_t> delay = std::nullopt) {
    new_message m{content_type::text, body, delay};
    store->push("acc", queue, std::span(&m, 1));
  }
  std::vector<std::string> bodies(const pull_result& r) {
    std::vector<std::string> out;
    for (const auto& m : r.messages) out.push_back(m.message.body);
    return out;
  }
  pull_result pull(std::int64_t batch = 10, std::optional<std::int64_t> timeout = std::nullopt) {
    return store->pull("acc", queue, batch, timeout);
  }
  std::string dlq_id() {
    return store->list_queues("acc", {"work-dlq"}, 1, 1).queues.at(0).queue_id;
  }

  database db;
  fake_clock clock;
  seeded_random random;
  std::unique_ptr<queue_store> store;
  std::string queue;
};

TEST_F(delivery_test, pull_hands_out_the_longest_ready_first_and_skips_delayed_ones) {
  push("a");
  clock.advance_ms(1);
  push("later", 2);
  clock.advance_ms(1);
  push("b");
  EXPECT_EQ(bodies(pull(1)), std::vector<std::string>{"a"});
  EXPECT_EQ(bodies(pull()), std::vector<std::string>{"b"});
  clock.advance_ms(2000);
  pull_result r = pull();
  EXPECT_EQ(bodies(r), std::vector<std::string>{"later"});
  EXPECT_EQ(r.metrics.backlog_count, 3);  // leased messages stay in the backlog
  EXPECT_TRUE(pull().messages.empty());
}

TEST_F(delivery_test, a_lease_hides_the_message_until_it_expires_then_attempts_grow) {
  push("x");
  pull_result first = pull();
  ASSERT_EQ(first.messages.size(), 1u);
  EXPECT_EQ(first.messages[0].message.attempts, 1);
  EXPECT_EQ(first.messages[0].message.visible_at_ms, start_ms + 10'000);  // the consumer's
  clock.advance_ms(9'999);
  EXPECT_TRUE(pull().messages.empty());
  clock.advance_ms(1);
  pull_result second = pull(10, 500);
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(second.messages[0].message.attempts, 2);
  EXPECT_NE(second.messages[0].lease_id, first.messages[0].lease_id);
}

TEST_F(delivery_test, ack_deletes_and_counts_once) {
  push("x");
  push("y");
  pull_result r = pull();
  ack_result a = store->ack("acc", queue, {r.messages[0].lease_id, r.messages[0].lease_id}, {});
  EXPECT_EQ(a.ack_count, 1);
  EXPECT_EQ(a.warnings.size(), 1u);
  EXPECT_EQ(store->metrics("acc", queue).backlog_count, 1);
  EXPECT_EQ(store->messages("acc", queue).at(0).body, "y");
}

TEST_F(delivery_test, retry_waits_for_its_delay_else_the_consumers) {
  push("x");
  push("y");
  pull_result r = pull();
  ack_result a = store->ack("acc", queue, {},
                            {{r.messages[0].lease_id, 2}, {r.messages[1].lease_id, std::nullopt}});
  EXPECT_EQ(a.retry_count, 2);
  EXPECT_TRUE(pull().messages.empty());
  clock.advance_ms(2000);
  EXPECT_EQ(bodies(pull()), std::vector<std::string>{"x"});
  clock.advance_ms(3000);  // the consumer's retry_delay, 5 s
  EXPECT_EQ(bodies(pull()), std::vector<std::string>{"y"});
}

TEST_F(delivery_test, messages_past_max_retries_move_to_the_dead_letter_queue) {
  push("x");
  auto first = pull();
  std::string id = first.messages.at(0).message.id;
  store->ack("acc", queue, {}, {{first.messages[0].lease_id, 0}});
  auto second = pull();  // attempts 2 > max_retries 1: its retry dead-letters it
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(store->ack("acc", queue, {}, {{second.messages[0].lease_id, 0}}).retry_count, 1);
  EXPECT_EQ(store->metrics("acc", queue).backlog_count, 0);
  auto moved = store->messages("acc", dlq_id());
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].id, id);  // id, body and timestamp kept, attempts reset
  EXPECT_EQ(moved[0].body, "x");
  EXPECT_EQ(moved[0].timestamp_ms, start_ms);
  EXPECT_EQ(moved[0].attempts, 0);
}

TEST_F(delivery_test, an_expired_lease_past_max_retries_dead_letters_on_the_next_pull) {
  push("x");
  pull(10, 1);
  clock.advance_ms(1);
  pull(10, 1);  // attempts 2
  clock.advance_ms(1);
  EXPECT_TRUE(pull().messages.empty());
  EXPECT_EQ(store->messages("acc", dlq_id()).size(), 1u);
}

TEST_F(delivery_test, retention_deletes_old_messages_before_each_use) {
  store->update_queue("acc", queue, std::nullopt, {0, false, 60});
  push("old");
  clock.advance_ms(30'000);
  push("young");
  clock.advance_ms(30'001);
  EXPECT_EQ(bodies(pull()), std::vector<std::string>{"young"});
  EXPECT_EQ(store->metrics("acc", queue).backlog_count, 1);
}

TEST_F(delivery_test, peek_leases_nothing_and_its_refs_purge) {
  push("x");
  push("y");
  auto peeked = store->peek("acc", queue, 10);
  ASSERT_EQ(peeked.size(), 2u);
  EXPECT_EQ(peeked[0].attempts, 0);
  purge_refs_result p =
      store->purge_messages("acc", queue, {message_ref(peeked[0].id), "ref-nope", "junk"});
  EXPECT_EQ(p.deleted, 1);
  EXPECT_EQ(p.warnings.size(), 2u);
  EXPECT_EQ(bodies(pull()), std::vector<std::string>{"y"});
}

TEST_F(delivery_test, queue_purge_deletes_ready_delayed_and_leased_messages) {
  push("ready");
  push("delayed", 60);
  push("leased");
  pull(1);
  store->purge_queue("acc", queue);
  EXPECT_EQ(store->metrics("acc", queue).backlog_count, 0);
  EXPECT_EQ(store->purge_started_us("acc", queue), start_us);
}

TEST_F(delivery_test, paused_queues_and_queues_without_a_pull_consumer_refuse_pull) {
  store->update_queue("acc", queue, std::nullopt, {0, true, 345'600});
  try {
    pull();
    FAIL();
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::delivery_paused);
  }
  std::string bare = store->create_queue("acc", "bare", {}).queue_id;
  try {
    store->pull("acc", bare, 1, std::nullopt);
    FAIL();
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::no_pull_consumer);
  }
}

}  // namespace
}  // namespace flareq::storage
