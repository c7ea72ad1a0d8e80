// queue_store: push, delays, metrics, queue creation rules.
#include "storage/queue_store.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/migrate.hpp"

namespace flareq::storage {
namespace {

constexpr std::int64_t start_us = 1'795'981'552'123'456;
constexpr std::int64_t start_ms = start_us / 1000;

class queue_store_test : public ::testing::Test {
 protected:
  explicit queue_store_test(store_options options = {.lenient = true, .declared = {}})
      : db(database::open(":memory:")), clock(start_us), random(1) {
    migrate(db);
    store = std::make_unique<queue_store>(db, clock, random, std::move(options));
  }

  queue_metrics push(std::string_view queue, new_message m, std::string_view account = "acc") {
    return store->push(account, queue, std::span(&m, 1));
  }

  static new_message text(std::string body, std::optional<std::int64_t> delay = std::nullopt) {
    return {content_type::text, std::move(body), delay};
  }

  database db;
  fake_clock clock;
  seeded_random random;
  std::unique_ptr<queue_store> store;
};

TEST_F(queue_store_test, push_stores_the_message) {
  auto m = push("q1", text("hello"));
  EXPECT_EQ(m.backlog_count, 1);
  EXPECT_EQ(m.backlog_bytes, 5);
  EXPECT_EQ(m.oldest_message_timestamp_ms, start_ms);
  auto rows = store->messages("acc", "q1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id.size(), 32u);
  EXPECT_EQ(rows[0].account_id, "acc");
  EXPECT_EQ(rows[0].queue_id, "q1");
  EXPECT_EQ(rows[0].type, content_type::text);
  EXPECT_EQ(rows[0].body, "hello");
  EXPECT_EQ(rows[0].size_bytes, 5);
  EXPECT_EQ(rows[0].timestamp_ms, start_ms);
  EXPECT_EQ(rows[0].delay_seconds, 0);
  EXPECT_EQ(rows[0].visible_at_ms, start_ms);
  EXPECT_EQ(rows[0].attempts, 0);
}

TEST_F(queue_store_test, metrics_follow_each_push) {
  push("q1", text("abc"));
  clock.advance_ms(10);
  auto m = push("q1", {content_type::json, R"({"a":1})", std::nullopt});
  EXPECT_EQ(m.backlog_count, 2);
  EXPECT_EQ(m.backlog_bytes, 3 + 7);
  EXPECT_EQ(m.oldest_message_timestamp_ms, start_ms);
  EXPECT_EQ(store->metrics("acc", "q1").backlog_count, 2);
}

TEST_F(queue_store_test, delay_sets_visible_at) {
  push("q1", text("later", 30));
  auto rows = store->messages("acc", "q1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].delay_seconds, 30);
  EXPECT_EQ(rows[0].visible_at_ms, start_ms + 30'000);
}

TEST_F(queue_store_test, queue_delay_applies_unless_the_message_says_otherwise) {
  push("q1", text("first"));
  db.exec("UPDATE queues SET delivery_delay = 20 WHERE queue_id = 'q1'");
  push("q1", text("queue default"));
  push("q1", text("explicit zero", 0));
  push("q1", text("explicit five", 5));
  auto rows = store->messages("acc", "q1");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].visible_at_ms, start_ms + 20'000);
  EXPECT_EQ(rows[2].visible_at_ms, start_ms);
  EXPECT_EQ(rows[3].visible_at_ms, start_ms + 5'000);
}

TEST_F(queue_store_test, queues_belong_to_accounts) {
  push("q1", text("a"), "acc1");
  push("q1", text("bb"), "acc2");
  EXPECT_EQ(store->metrics("acc1", "q1").backlog_bytes, 1);
  EXPECT_EQ(store->metrics("acc2", "q1").backlog_bytes, 2);
}

TEST_F(queue_store_test, empty_queue_reports_zero_oldest) {
  push("q1", text("x"));
  db.exec("DELETE FROM messages");
  auto m = store->metrics("acc", "q1");
  EXPECT_EQ(m.backlog_count, 0);
  EXPECT_EQ(m.backlog_bytes, 0);
  EXPECT_EQ(m.oldest_message_timestamp_ms, 0);
}

TEST_F(queue_store_test, deletes_leave_the_metrics) {
  push("q1", text("aaaa"));
  clock.advance_ms(5);
  push("q1", text("bb"));
  db.exec("DELETE FROM messages WHERE body = 'aaaa'");
  auto m = store->metrics("acc", "q1");
  EXPECT_EQ(m.backlog_count, 1);
  EXPECT_EQ(m.backlog_bytes, 2);
  EXPECT_EQ(m.oldest_message_timestamp_ms, start_ms + 5);
}

TEST_F(queue_store_test, lenient_push_creates_the_queue_named_after_its_id) {
  push("new-queue", text("x"));
  auto q = db.prepare("SELECT queue_name, created_us FROM queues WHERE queue_id = 'new-queue'");
  ASSERT_TRUE(q->step());
  EXPECT_EQ(q->column_text(0), "new-queue");
  EXPECT_EQ(q->column_int64(1), start_us);
}

TEST_F(queue_store_test, metrics_of_an_unknown_queue) {
  try {
    store->metrics("acc", "nope");
    FAIL();
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::queue_not_found);
  }
}

class strict_store_test : public queue_store_test {
 protected:
  strict_store_test()
      : queue_store_test(store_options{.declared = {{"orders", "orders"}, {"jobs", "jobid"}}}) {}
};

TEST_F(strict_store_test, unknown_queue_is_not_found_and_not_created) {
  try {
    push("other", text("x"));
    FAIL();
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::queue_not_found);
  }
  auto q = db.prepare("SELECT count(*) FROM queues");
  q->step();
  EXPECT_EQ(q->column_int64(0), 0);
}

TEST_F(strict_store_test, declared_queues_exist_in_every_account) {
  EXPECT_EQ(push("orders", text("x"), "a1").backlog_count, 1);
  EXPECT_EQ(push("jobid", text("x"), "a2").backlog_count, 1);
  auto q =
      db.prepare("SELECT queue_name FROM queues WHERE account_id = 'a2' AND queue_id = 'jobid'");
  ASSERT_TRUE(q->step());
  EXPECT_EQ(q->column_text(0), "jobs");
}

class declared_lenient_test : public queue_store_test {
 protected:
  declared_lenient_test()
      : queue_store_test(store_options{.lenient = true, .declared = {{"jobs", "jobid"}}}) {}
};

TEST_F(declared_lenient_test, auto_created_name_may_be_taken) {
  push("jobid", text("x"));
  try {
    push("jobs", text("x"));  // would be named "jobs", the declared queue's name
    FAIL();
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::queue_name_taken);
    EXPECT_NE(std::string(e.what()).find("jobid"), std::string::npos);
  }
}

TEST_F(strict_store_test, a_deleted_declared_queue_stays_deleted_until_a_new_store) {
  push("orders", text("x"), "a1");
  store->delete_queue("a1", "orders");
  auto expect_missing = [&](auto op) {
    try {
      op();
      FAIL() << "the deleted declared queue came back";
    } catch (const store_error& e) {
      EXPECT_EQ(e.code(), store_errc::queue_not_found);
    }
  };
  expect_missing([&] { push("orders", text("x"), "a1"); });
  expect_missing([&] { store->get_queue("a1", "orders"); });
  EXPECT_TRUE(store->list_queues("a1", {}, 1, 100).queues.size() == 1);  // jobs only
  store->reset();
  expect_missing([&] { store->get_queue("a1", "orders"); });
  // Other accounts keep it; a queue created with the name is an ordinary one.
  EXPECT_EQ(push("orders", text("x"), "a2").backlog_count, 1);
  EXPECT_EQ(store->create_queue("a1", "orders", {}).queue_name, "orders");
  // The next run (a new store on the same database) declares it again.
  store->reset();
  store = std::make_unique<queue_store>(
      db, clock, random, store_options{.declared = {{"orders", "orders"}, {"jobs", "jobid"}}});
  EXPECT_EQ(store->get_queue("a1", "orders").queue_name, "orders");
}

// The reproduction of a stale lease stealing a message: lease A expires, B
// takes the message, and A's retry must change nothing.
TEST_F(queue_store_test, a_stale_lease_cannot_retry_or_ack_a_message_another_lease_holds) {
  push("q1", text("x"));
  auto a = store->pull("acc", "q1", 1, 1);
  ASSERT_EQ(a.messages.size(), 1u);
  clock.advance_ms(50);
  auto b = store->pull("acc", "q1", 1, 60'000);
  ASSERT_EQ(b.messages.size(), 1u);
  EXPECT_EQ(b.messages[0].message.attempts, 2);
  const std::string lease_a = a.messages[0].lease_id;
  const std::string lease_b = b.messages[0].lease_id;

  ack_result retried = store->ack("acc", "q1", {}, {{lease_a, std::nullopt}});
  EXPECT_EQ(retried.retry_count, 0);
  ASSERT_EQ(retried.warnings.size(), 1u);
  EXPECT_EQ(retried.warnings[0].first, lease_a);
  ack_result acked = store->ack("acc", "q1", {lease_a}, {});
  EXPECT_EQ(acked.ack_count, 0);
  EXPECT_EQ(acked.warnings.size(), 1u);
  // A forged nonce for the same message is no lease of it.
  std::string forged = lease_b.substr(0, 33) + std::string(32, '0');
  EXPECT_EQ(store->ack("acc", "q1", {forged}, {}).ack_count, 0);
  // Not delivered again while B lasts...
  clock.advance_ms(59'000);
  EXPECT_TRUE(store->pull("acc", "q1", 1, 1000).messages.empty());
  // ... and B, the holder, can retry it.
  EXPECT_EQ(store->ack("acc", "q1", {}, {{lease_b, std::nullopt}}).retry_count, 1);
  auto c = store->pull("acc", "q1", 1, 1000);
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].message.attempts, 3);
  // Once C has expired and no lease holds it, a late ack by A still deletes it.
  clock.advance_ms(1000);
  EXPECT_EQ(store->ack("acc", "q1", {lease_a}, {}).ack_count, 1);
  EXPECT_EQ(store->metrics("acc", "q1").backlog_count, 0);
  // Later acks and retries of it are warnings.
  ack_result late = store->ack("acc", "q1", {lease_b}, {{lease_b, std::nullopt}});
  EXPECT_EQ(late.ack_count + late.retry_count, 0);
  EXPECT_EQ(late.warnings.size(), 2u);
}

TEST_F(queue_store_test, ready_after_migration) {
  EXPECT_TRUE(store->ready());
}

}  // namespace
}  // namespace flareq::storage
