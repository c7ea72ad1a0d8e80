// queue_store: push, delays, metrics, queue creation rules.
#include "storage/queue_store.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>
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

// No trigger keeps the backlog counts: the store changes them beside every
// change to messages. Whatever mix of pushes, pulls, acks, retries,
// dead-lettering, purges, retention and queue deletions happens, each
// queue's counts equal its stored rows.
TEST_F(queue_store_test, backlog_counts_always_equal_the_stored_rows) {
  std::mt19937_64 rng(20261130);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  const std::vector<std::string> queues = {"a", "b", "a-dlq"};
  // Each queue's id by name, made (with a short retention) when missing;
  // "a" has a pull consumer that dead-letters to "a-dlq" after one retry.
  auto id_of = [&](const std::string& name) {
    queue_page found = store->list_queues("acc", {name}, 1, 10);
    if (!found.queues.empty()) return found.queues[0].queue_id;
    queue_settings short_retention;
    short_retention.message_retention_period = 60;
    std::string id = store->create_queue("acc", name, short_retention).queue_id;
    if (name == "a") {
      consumer_input c;
      c.type = consumer_type::http_pull;
      c.dead_letter_queue = "a-dlq";
      c.settings.max_retries = 1;
      store->create_consumer("acc", id, c);
    }
    return id;
  };
  auto setup = [&] {
    for (const std::string& name : queues) id_of(name);
  };
  setup();
  std::vector<std::string> leases;
  for (int step = 0; step < 3000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    std::string q = id_of(queues[static_cast<std::size_t>(pick(0, 2))]);
    switch (pick(0, 9)) {
      case 0:
      case 1:
      case 2: {
        std::vector<new_message> batch;
        for (std::int64_t i = pick(1, 5); i > 0; --i) {
          batch.push_back(text(std::string(static_cast<std::size_t>(pick(1, 40)), 'x'),
                               pick(0, 4) == 0 ? std::optional<std::int64_t>(1) : std::nullopt));
        }
        store->push("acc", q, batch);
        break;
      }
      case 3:
      case 4: {
        for (const leased_message& m : store->pull("acc", q, pick(1, 4), 500).messages) {
          leases.push_back(m.lease_id);
        }
        break;
      }
      case 5:
      case 6: {
        if (leases.empty()) break;
        std::string lease = leases[static_cast<std::size_t>(pick(0, leases.size() - 1))];
        if (pick(0, 1) == 0) {
          store->ack("acc", q, {lease}, {});
        } else {
          store->ack("acc", q, {}, {{lease, pick(0, 1)}});
        }
        break;
      }
      case 7: {
        auto rows = store->messages("acc", q);
        if (pick(0, 5) == 0) {
          store->purge_queue("acc", q);
        } else if (!rows.empty()) {
          store->purge_messages(
              "acc", q, {message_ref(rows[static_cast<std::size_t>(pick(0, rows.size() - 1))].id)});
        }
        break;
      }
      case 8:
        clock.advance_ms(pick(0, 20'000));
        store->sweep();
        break;
      case 9:
        if (pick(0, 30) == 0) {
          store->delete_queue("acc", q);
          setup();
        }
        break;
    }
    auto counts = db.prepare(
        "SELECT q.queue_name, q.backlog_count, q.backlog_bytes, "
        "(SELECT count(*) FROM messages m WHERE m.qkey = q.qkey), "
        "(SELECT coalesce(sum(size_bytes), 0) FROM messages m WHERE m.qkey = q.qkey) "
        "FROM queues q");
    while (counts->step()) {
      ASSERT_EQ(counts->column_int64(1), counts->column_int64(3)) << counts->column_text(0);
      ASSERT_EQ(counts->column_int64(2), counts->column_int64(4)) << counts->column_text(0);
    }
  }
  // The mix reached dead-lettering and retention.
  auto journal = db.prepare("SELECT count(*) FROM events WHERE type = ?1");
  for (const char* type : {"dead_lettered", "expired", "purged", "queue_deleted"}) {
    journal->bind(1, std::string_view(type));
    ASSERT_TRUE(journal->step());
    EXPECT_GT(journal->column_int64(0), 0) << type;
    journal->reset();
  }
}

// The journal's readers are woken only by what wrote events: reads and
// sweeps with nothing due write none.
TEST_F(queue_store_test, only_changes_record_events) {
  EXPECT_FALSE(store->take_recorded());
  push("q1", text("hello", 10));
  EXPECT_TRUE(store->take_recorded());
  EXPECT_FALSE(store->take_recorded()) << "taken once";
  store->metrics("acc", "q1");
  store->peek("acc", "q1", 10);
  store->events({});
  EXPECT_EQ(store->sweep(), 0);
  EXPECT_FALSE(store->take_recorded());
  clock.advance_ms(10'000);
  EXPECT_EQ(store->sweep(), 1) << "the delay ended";
  EXPECT_TRUE(store->take_recorded());
}

// Sweeps look for retention only when a message may have passed it.
TEST_F(queue_store_test, the_sweep_removes_messages_past_retention_when_due) {
  push("q1", text("old"));
  clock.advance_ms(345'600'000);
  EXPECT_EQ(store->sweep(), 0) << "not before the period is over";
  push("q1", text("young"));
  clock.advance_ms(1);
  EXPECT_EQ(store->sweep(), 1);
  auto left = store->messages("acc", "q1");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].body, "young");
  auto events = store->events({});
  EXPECT_EQ(storage::to_string(events.back().type), "expired");
  EXPECT_EQ(events.back().at_ms, start_ms + 345'600'000);
}

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
  store->purge_messages("acc", "q1", {message_ref(store->messages("acc", "q1").at(0).id)});
  auto m = store->metrics("acc", "q1");
  EXPECT_EQ(m.backlog_count, 0);
  EXPECT_EQ(m.backlog_bytes, 0);
  EXPECT_EQ(m.oldest_message_timestamp_ms, 0);
}

TEST_F(queue_store_test, deletes_leave_the_metrics) {
  push("q1", text("aaaa"));
  clock.advance_ms(5);
  push("q1", text("bb"));
  store->purge_messages("acc", "q1", {message_ref(store->messages("acc", "q1").at(0).id)});
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
  // Only the declared queues exist (made at the account's first use).
  auto q = db.prepare(
      "SELECT group_concat(queue_id) FROM (SELECT queue_id FROM queues ORDER BY queue_id)");
  q->step();
  EXPECT_EQ(q->column_text(0), "jobid,orders");
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

TEST_F(strict_store_test, a_declared_queue_whose_name_was_taken_is_not_found) {
  push("jobid", text("x"), "a1");
  store->delete_queue("a1", "jobid");
  store->create_queue("a1", "jobs", {});  // the declared name, another id
  store = std::make_unique<queue_store>(
      db, clock, random, store_options{.declared = {{"orders", "orders"}, {"jobs", "jobid"}}});
  for (auto op : {std::function<void()>([&] { store->get_queue("a1", "jobid"); }),
                  std::function<void()>([&] { push("jobid", text("x"), "a1"); })}) {
    try {
      op();
      FAIL() << "expected declared_name_taken";
    } catch (const store_error& e) {
      EXPECT_EQ(e.code(), store_errc::declared_name_taken);
      EXPECT_NE(std::string(e.what()).find("has its name"), std::string::npos) << e.what();
    }
  }
}

TEST_F(declared_lenient_test, a_deleted_declared_queue_is_not_made_again_by_a_push) {
  push("jobid", text("x"));
  store->delete_queue("acc", "jobid");
  try {
    push("jobid", text("x"));
    FAIL() << "the deleted declared queue came back";
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::queue_not_found);
  }
}

// A rename must not make a queue its own consumer's dead-letter queue.
TEST_F(queue_store_test, renaming_a_queue_to_its_dead_letter_queue_is_refused) {
  queue_record q = store->create_queue("acc", "alpha", {});
  consumer_input c;
  c.type = consumer_type::http_pull;
  c.dead_letter_queue = "beta";
  store->create_consumer("acc", q.queue_id, c);
  store->delete_queue("acc", store->list_queues("acc", {"beta"}, 1, 1).queues.at(0).queue_id);
  try {
    store->update_queue("acc", q.queue_id, "beta", {});
    FAIL();
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::dead_letter_loop);
  }
  EXPECT_EQ(store->get_queue("acc", q.queue_id).queue_name, "alpha");
}

TEST_F(queue_store_test, a_retry_after_an_ack_in_one_call_is_a_repeat) {
  push("q1", text("x"));
  std::string lease = store->pull("acc", "q1", 1, 1000).messages.at(0).lease_id;
  ack_result r = store->ack("acc", "q1", {lease}, {{lease, std::nullopt}});
  EXPECT_EQ(r.ack_count, 1);
  EXPECT_EQ(r.retry_count, 0);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].second.find("earlier in this request"), std::string::npos);
}

// A database of schema 2 had no lease history: its delivered messages keep
// accepting any well-formed lease id of theirs, as they did.
TEST(queue_store_upgrade, messages_delivered_before_lease_history_accept_their_lease_ids) {
  database db = database::open(":memory:");
  for (const migration& m : embedded_migrations()) {
    if (m.version <= 2) db.exec(m.sql);
  }
  db.exec("PRAGMA user_version = 2");
  const std::string id(32, 'a');
  db.exec(
      "INSERT INTO queues (account_id, queue_id, queue_name, created_us, modified_us) "
      "VALUES ('acc', 'q', 'q', 1, 1)");
  db.exec(
      "INSERT INTO messages (id, account_id, queue_id, content_type, body, size_bytes, "
      "timestamp_ms, delay_seconds, visible_at_ms, attempts) VALUES ('" +
      id + "', 'acc', 'q', 'text', 'x', 1, " + std::to_string(start_ms) + ", 0, 0, 1)");
  migrate(db);
  fake_clock clock(start_us);
  seeded_random random(1);
  queue_store store(db, clock, random, {});
  ack_result r = store.ack("acc", "q", {id + "." + std::string(32, 'b')}, {});
  EXPECT_EQ(r.ack_count, 1);
  EXPECT_TRUE(r.warnings.empty());
}

// Schema 6 names a message's queue by number and stops storing ids: a
// database of schema 5 keeps every message, in its queue, with its id, its
// counts and its place in line; new messages get made ids beside them.
TEST(queue_store_upgrade, compacting_messages_keeps_ids_queues_counts_and_order) {
  database db = database::open(":memory:");
  for (const migration& m : embedded_migrations()) {
    if (m.version <= 5) db.exec(m.sql);
  }
  db.exec("PRAGMA user_version = 5");
  for (const char* q : {"q1", "q2"}) {
    db.exec(std::string("INSERT INTO queues (account_id, queue_id, queue_name, created_us, "
                        "modified_us) VALUES ('acc', '") +
            q + "', '" + q + "', 1, 1)");
  }
  auto old_message = [&](const std::string& id, const std::string& q, const std::string& body) {
    db.exec(
        "INSERT INTO messages (id, account_id, queue_id, content_type, body, size_bytes, "
        "timestamp_ms, delay_seconds, visible_at_ms) VALUES ('" +
        id + "', 'acc', '" + q + "', 'text', '" + body + "', " + std::to_string(body.size()) +
        ", " + std::to_string(start_ms) + ", 0, 0)");
  };
  const std::string a(32, 'a'), b(32, 'b'), c(32, 'c');
  old_message(a, "q1", "first");
  old_message(b, "q1", "second");
  old_message(c, "q2", "other");
  migrate(db);
  fake_clock clock(start_us);
  seeded_random random(1);
  queue_store store(db, clock, random, {});
  EXPECT_EQ(store.metrics("acc", "q1").backlog_count, 2);
  EXPECT_EQ(store.metrics("acc", "q1").backlog_bytes, 11);
  EXPECT_EQ(store.metrics("acc", "q2").backlog_count, 1);
  store.push("acc", "q1", std::vector<new_message>{{content_type::text, "third", std::nullopt}});
  std::vector<message_record> in_q1 = store.messages("acc", "q1");
  ASSERT_EQ(in_q1.size(), 3u);
  EXPECT_EQ(in_q1[0].id, a);
  EXPECT_EQ(in_q1[1].id, b);
  EXPECT_EQ(in_q1[2].body, "third");
  EXPECT_NE(in_q1[2].id, a);
  EXPECT_EQ(store.messages("acc", "q2").at(0).id, c);
  // Old and new ids alike resolve to their message for purge by ref.
  purge_refs_result purged =
      store.purge_messages("acc", "q1", {message_ref(b), message_ref(in_q1[2].id)});
  EXPECT_EQ(purged.deleted, 2);
  EXPECT_TRUE(purged.warnings.empty());
  // An old id in another queue is not this queue's message.
  EXPECT_EQ(store.purge_messages("acc", "q1", {message_ref(c)}).deleted, 0);
  EXPECT_EQ(store.metrics("acc", "q1").backlog_count, 1);
  EXPECT_EQ(store.metrics("acc", "q2").backlog_count, 1);
}

// A seq is never reused: the same --seed gives the same random tails again
// after a restart, yet a new message never gets an id an earlier one had.
TEST(queue_store_ids, ids_never_repeat_when_the_same_seed_runs_again) {
  database db = database::open(":memory:");
  migrate(db);
  fake_clock clock(start_us);
  store_options lenient;
  lenient.lenient = true;
  std::string first;
  {
    seeded_random random(7);
    queue_store store(db, clock, random, lenient);
    store.push("acc", "q", std::vector<new_message>{{content_type::text, "x", std::nullopt}});
    first = store.messages("acc", "q").at(0).id;
    ASSERT_EQ(store.purge_messages("acc", "q", {message_ref(first)}).deleted, 1);
  }
  seeded_random random(7);
  queue_store store(db, clock, random, lenient);
  store.push("acc", "q", std::vector<new_message>{{content_type::text, "y", std::nullopt}});
  EXPECT_NE(store.messages("acc", "q").at(0).id, first);
  // Nor after a reset.
  store.reset();
  seeded_random again(7);
  queue_store after_reset(db, clock, again, lenient);
  after_reset.push("acc", "q", std::vector<new_message>{{content_type::text, "z", std::nullopt}});
  EXPECT_NE(after_reset.messages("acc", "q").at(0).id, first);
}

// A made id names its message in its queue only, and only with its own tail.
TEST(queue_store_ids, a_made_id_finds_its_message_in_its_queue_only) {
  database db = database::open(":memory:");
  migrate(db);
  fake_clock clock(start_us);
  seeded_random random(9);
  store_options lenient;
  lenient.lenient = true;
  queue_store store(db, clock, random, lenient);
  store.push("acc", "q1", std::vector<new_message>{{content_type::text, "x", std::nullopt}});
  store.push("acc", "q2", std::vector<new_message>{{content_type::text, "y", std::nullopt}});
  std::string id = store.messages("acc", "q1").at(0).id;
  auto parts = parse_message_id(id);
  ASSERT_TRUE(parts);
  // The same seq with another tail, and the id in the other queue: not found.
  std::string forged = message_id(parts->seq, parts->id_tail ^ 1);
  purge_refs_result r = store.purge_messages("acc", "q1", {message_ref(forged)});
  EXPECT_EQ(r.deleted, 0);
  EXPECT_EQ(store.purge_messages("acc", "q2", {message_ref(id)}).deleted, 0);
  EXPECT_EQ(store.purge_messages("acc", "q1", {message_ref(id)}).deleted, 1);
}

// A declared queue is the one its name means from an account's first use
// on: a dead-letter queue or a lenient push of that name finds it, never a
// new queue that would hide it.
TEST(declared_queue_names, are_taken_by_the_declared_queue_first) {
  database db = database::open(":memory:");
  migrate(db);
  fake_clock clock(start_us);
  seeded_random random(3);
  queue_store store(
      db, clock, random,
      {.lenient = true,
       .declared = {{"orders", "orders"}, {"orders-dlq", "DLQPROD"}, {"foo", "ID1"}}});
  consumer_input c;
  c.type = consumer_type::http_pull;
  c.dead_letter_queue = "orders-dlq";
  store.create_consumer("a1", "orders", c);
  EXPECT_EQ(store.get_queue("a1", "DLQPROD").queue_name, "orders-dlq");
  EXPECT_EQ(store.list_queues("a1", {}, 1, 100).total_count, 3);
  // A lenient push to the declared name (not its id) in a fresh account.
  new_message m{content_type::text, "x", std::nullopt};
  try {
    store.push("a2", "foo", std::span(&m, 1));
    FAIL() << "a queue named foo would hide the declared one";
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::queue_name_taken);
  }
  EXPECT_EQ(store.push("a2", "ID1", std::span(&m, 1)).backlog_count, 1);
  // Provisioning: a file queue renamed along with a new consumer is checked
  // against that consumer, not the old one.
  queue_record q1 = store.create_queue("a3", "q1", {});
  c.dead_letter_queue = "b";
  store.create_consumer("a3", q1.queue_id, c);
  store.delete_queue("a3", store.list_queues("a3", {"b"}, 1, 1).queues.at(0).queue_id);
  consumer_input replacement = c;
  replacement.dead_letter_queue = "c";
  store.provision({"a3", {{"b", q1.queue_id, {}, replacement}}});
  EXPECT_EQ(store.get_queue("a3", q1.queue_id).queue_name, "b");
  EXPECT_EQ(store.get_queue("a3", q1.queue_id).consumer->input.dead_letter_queue, "c");
}

// A config file that renames a queue may point its consumer's dead-letter
// queue at the old name: that is a new queue then, not a loop.
TEST_F(queue_store_test, provisioning_a_rename_with_a_dead_letter_queue_of_the_old_name) {
  store->provision({"acc", {{"alpha", "q1id", {}, std::nullopt}}});
  consumer_input c;
  c.type = consumer_type::http_pull;
  c.dead_letter_queue = "alpha";
  store->provision({"acc", {{"beta", "q1id", {}, c}}});
  queue_record q = store->get_queue("acc", "q1id");
  EXPECT_EQ(q.queue_name, "beta");
  EXPECT_EQ(q.consumer->input.dead_letter_queue, "alpha");
  auto dlq = store->list_queues("acc", {"alpha"}, 1, 1);
  ASSERT_EQ(dlq.queues.size(), 1u);
  EXPECT_NE(dlq.queues[0].queue_id, "q1id");
  // A loop in the file itself is still refused.
  c.dead_letter_queue = "gamma";
  try {
    store->provision({"acc", {{"gamma", "q1id", {}, c}}});
    FAIL();
  } catch (const store_error& e) {
    EXPECT_EQ(e.code(), store_errc::dead_letter_loop);
  }
}

// A consumer's dead-letter queue may be a queue the file lists after it.
TEST_F(queue_store_test, provisioning_makes_the_queues_before_the_consumers) {
  consumer_input c;
  c.type = consumer_type::http_pull;
  c.dead_letter_queue = "alpha";
  store->provision({"acc", {{"beta", "q1id", {}, c}, {"alpha", "q3id", {}, std::nullopt}}});
  EXPECT_EQ(store->get_queue("acc", "q3id").queue_name, "alpha");
  EXPECT_EQ(store->get_queue("acc", "q1id").consumer->input.dead_letter_queue, "alpha");
  EXPECT_EQ(store->list_queues("acc", {}, 1, 100).total_count, 2);
}

TEST_F(queue_store_test, ready_after_migration) {
  EXPECT_TRUE(store->ready());
}

}  // namespace
}  // namespace flareq::storage
