// The writer: every job completes after its commit, a failing job does not
// fail its group, and stop() drains what waits.
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/migrate.hpp"
#include "storage/queue_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace flareq::storage {
namespace {

// A job that runs fn and fulfils a promise with the error it ended with.
class test_job final : public job {
 public:
  explicit test_job(std::function<void(queue_store&)> fn) : fn_(std::move(fn)) {}
  void execute(queue_store& store) override { fn_(store); }
  void complete(std::exception_ptr error) noexcept override { done_.set_value(error); }
  std::future<std::exception_ptr> done() { return done_.get_future(); }

 private:
  std::function<void(queue_store&)> fn_;
  std::promise<std::exception_ptr> done_;
};

std::future<std::exception_ptr> submit(writer& w, std::function<void(queue_store&)> fn) {
  auto j = std::make_unique<test_job>(std::move(fn));
  auto done = j->done();
  w.submit(std::move(j));
  return done;
}

// Holds the writer in a job of its own until release(), so that the jobs
// submitted meanwhile wait together and then run as one group.
class writer_hold {
 public:
  explicit writer_hold(writer& w) {
    std::shared_future<void> gate = go_.get_future().share();
    held_ = submit(w, [gate, this](queue_store&) {
      holding_.set_value();
      gate.wait();
    });
    holding_.get_future().wait();
  }
  // Lets the held job end; returns how it ended.
  std::exception_ptr release() {
    go_.set_value();
    return held_.get();
  }

 private:
  std::promise<void> go_, holding_;
  std::future<std::exception_ptr> held_;
};

class writer_test : public ::testing::Test {
 protected:
  writer_test()
      : db(database::open(dir.file("w.db"))),
        clock(1'000'000),
        random(3),
        store(db, clock, random, {.lenient = true, .declared = {}}) {
    migrate(db);
  }

  std::int64_t count_rows() {
    database reader = database::open(dir.file("w.db"));
    auto q = reader.prepare("SELECT count(*) FROM messages");
    q->step();
    return q->column_int64(0);
  }

  test::temp_dir dir;
  database db;
  fake_clock clock;
  seeded_random random;
  queue_store store;
};

void push_one(queue_store& s, std::string body) {
  new_message m{content_type::text, std::move(body), std::nullopt};
  s.push("acc", "q", std::span(&m, 1));
}

// What the store works out inside a transaction whose commit fails (here a
// later retention due time, from a retention change that did not stand)
// must not outlive it: the message still expires on time.
TEST_F(writer_test, a_failed_commit_leaves_no_stale_retention_behind) {
  writer w(db, store);
  std::string id;
  submit(w, [&](queue_store& s) {
    id = s.create_queue(
              "acc", "short",
              {.delivery_delay = 0, .delivery_paused = false, .message_retention_period = 60})
             .queue_id;
    new_message m{content_type::text, "old", std::nullopt};
    s.push("acc", id, std::span(&m, 1));
  }).get();
  // One group: the writer is held until the three jobs wait together.
  writer_hold hold(w);
  auto longer = submit(w, [&](queue_store& s) {
    s.update_queue(
        "acc", id, std::nullopt,
        {.delivery_delay = 0, .delivery_paused = false, .message_retention_period = 86400});
  });
  auto look = submit(w, [&](queue_store& s) { s.peek("acc", id, 10); });
  auto broken = submit(w, [&](queue_store&) {
    // A foreign key checked at COMMIT: the whole transaction fails there.
    db.exec("PRAGMA defer_foreign_keys = ON");
    db.exec(
        "INSERT INTO consumers (account_id, queue_id, consumer_id, type, created_us) "
        "VALUES ('acc', 'no-such-queue', 'c', 'http_pull', 0)");
  });
  EXPECT_EQ(hold.release(), nullptr);
  EXPECT_NE(longer.get(), nullptr) << "the commit failed";
  look.get();
  broken.get();
  clock.advance_ms(61'000);
  std::vector<message_record> seen{{}};
  submit(w, [&](queue_store& s) { seen = s.peek("acc", id, 10); }).get();
  EXPECT_TRUE(seen.empty()) << "expired 60 s after its push";
}

TEST_F(writer_test, jobs_from_many_threads_all_commit) {
  writer w(db, store);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto done = submit(w, [t, i](queue_store& s) {
          push_one(s, std::to_string(t) + "-" + std::to_string(i));
        });
        if (done.get()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  w.stop();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count_rows(), 400);
  auto stats = w.stats();
  EXPECT_EQ(stats.jobs, 400u);
  EXPECT_GE(stats.commits, 1u);
  EXPECT_LE(stats.commits, 400u);
}

// Group commit, proved: with the writer held by a first job, the 50 jobs
// queued meanwhile commit together, in one transaction after the first's.
TEST_F(writer_test, jobs_queued_while_the_writer_is_busy_commit_as_one_group) {
  writer w(db, store);
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::promise<void> started;
  auto first = submit(w, [gate, &started](queue_store&) {
    started.set_value();
    gate.wait();
  });
  started.get_future().wait();
  std::vector<std::future<std::exception_ptr>> queued;
  for (int i = 0; i < 50; ++i) {
    queued.push_back(submit(w, [i](queue_store& s) { push_one(s, std::to_string(i)); }));
  }
  release.set_value();
  EXPECT_FALSE(first.get());
  for (auto& done : queued) EXPECT_FALSE(done.get());
  w.stop();
  EXPECT_EQ(w.stats().jobs, 51u);
  EXPECT_EQ(w.stats().commits, 2u);
  EXPECT_EQ(count_rows(), 50);
}

TEST_F(writer_test, a_failing_job_rolls_back_alone) {
  writer w(db, store);
  // Hold the writer in a first job so the next three run in one group.
  std::promise<void> release;
  auto gate = release.get_future().share();
  auto first = submit(w, [gate](queue_store&) { gate.wait(); });
  auto ok1 = submit(w, [](queue_store& s) { push_one(s, "kept-1"); });
  auto bad = submit(w, [](queue_store& s) {
    push_one(s, "dropped");
    throw std::runtime_error("boom");
  });
  auto ok2 = submit(w, [](queue_store& s) { push_one(s, "kept-2"); });
  release.set_value();
  EXPECT_FALSE(first.get());
  EXPECT_FALSE(ok1.get());
  auto error = bad.get();
  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), std::runtime_error);
  EXPECT_FALSE(ok2.get());
  w.stop();
  auto rows = store.messages("acc", "q");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].body, "kept-1");
  EXPECT_EQ(rows[1].body, "kept-2");
  EXPECT_EQ(store.metrics("acc", "q").backlog_count, 2);
}

// SQLITE_FULL in a one-row UPDATE (no statement journal) makes SQLite roll
// back the whole transaction, not just the job's savepoint: the group runs
// again without that job, so reads and the other writes of the group go on.
TEST_F(writer_test, a_job_that_ends_the_transaction_fails_alone) {
  db.exec("CREATE TABLE filler (v BLOB); INSERT INTO filler VALUES (x'00')");
  push_one(store, "before");
  auto pages = db.prepare("PRAGMA page_count");
  pages->step();
  db.exec("PRAGMA max_page_count = " + std::to_string(pages->column_int64(0) + 4));
  writer w(db, store);
  std::promise<void> release;
  auto gate = release.get_future().share();
  auto first = submit(w, [gate](queue_store&) { gate.wait(); });
  std::int64_t seen = -1;
  auto read = submit(w, [&seen](queue_store& s) { seen = s.metrics("acc", "q").backlog_count; });
  auto ok1 = submit(w, [](queue_store& s) { push_one(s, "kept-1"); });
  auto full = submit(w, [this](queue_store&) {
    db.prepare("UPDATE filler SET v = zeroblob(1000000) WHERE rowid = 1")->run();
  });
  auto ok2 = submit(w, [](queue_store& s) { push_one(s, "kept-2"); });
  release.set_value();
  EXPECT_FALSE(first.get());
  EXPECT_FALSE(read.get());
  EXPECT_FALSE(ok1.get());
  auto error = full.get();
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const database_error& e) {
    EXPECT_EQ(e.code() & 0xff, 13) << e.what();  // SQLITE_FULL
  }
  EXPECT_FALSE(ok2.get());
  w.stop();
  EXPECT_EQ(seen, 1);
  EXPECT_GE(w.stats().reruns, 1u);
  auto rows = store.messages("acc", "q");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].body, "kept-1");
  EXPECT_EQ(rows[2].body, "kept-2");
}

TEST_F(writer_test, a_deleted_database_file_fails_every_job_and_is_reported) {
  push_one(store, "before");
  std::vector<std::string> reports;
  writer_options options;
  options.report = [&reports](const std::string& problem) { reports.push_back(problem); };
  writer w(db, store, options);
  EXPECT_FALSE(submit(w, [](queue_store& s) { push_one(s, "kept"); }).get());
  std::filesystem::remove(dir.file("w.db"));
  for (int i = 0; i < 2; ++i) {
    auto error = submit(w, [](queue_store& s) { push_one(s, "lost"); }).get();
    ASSERT_TRUE(error);
    try {
      std::rethrow_exception(error);
    } catch (const database_error& e) {
      EXPECT_NE(std::string(e.what()).find("was deleted, moved or replaced"), std::string::npos)
          << e.what();
    }
  }
  w.stop();
  ASSERT_EQ(reports.size(), 1u);  // said once
  EXPECT_NE(reports[0].find(dir.file("w.db")), std::string::npos) << reports[0];
}

// A file that comes back (renamed away and back) makes storage work again.
TEST_F(writer_test, a_database_file_that_comes_back_works_again) {
  std::vector<std::string> reports;
  writer_options options;
  options.report = [&reports](const std::string& problem) { reports.push_back(problem); };
  writer w(db, store, options);
  EXPECT_FALSE(submit(w, [](queue_store& s) { push_one(s, "first"); }).get());
  std::filesystem::rename(dir.file("w.db"), dir.file("away.db"));
  EXPECT_TRUE(submit(w, [](queue_store& s) { push_one(s, "refused"); }).get());
  EXPECT_FALSE(w.storage_lost().empty());
  std::filesystem::rename(dir.file("away.db"), dir.file("w.db"));
  EXPECT_FALSE(submit(w, [](queue_store& s) { push_one(s, "second"); }).get());
  EXPECT_TRUE(w.storage_lost().empty());
  w.stop();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_NE(reports[1].find("storage works again"), std::string::npos) << reports[1];
  EXPECT_EQ(count_rows(), 2);
}

// A commit that leaves more than the bound in the WAL makes the writer
// restart it, so the file stops growing however much is written.
TEST_F(writer_test, the_wal_stays_near_its_bound) {
  db.exec("PRAGMA wal_autocheckpoint = 0");
  db.exec("PRAGMA journal_size_limit = 65536");
  // Start on an empty WAL: the migrations' frames are not the writer's.
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  writer_options options;
  options.wal_limit_bytes = 64 * 1024;
  writer w(db, store, options);
  std::uintmax_t largest = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_FALSE(submit(w, [](queue_store& s) { push_one(s, std::string(10'000, 'w')); }).get());
    largest = std::max(largest, std::filesystem::file_size(dir.file("w.db-wal")));
  }
  w.stop();
  EXPECT_GE(w.stats().wal_restarts, 10u);
  // The bound plus one commit's frames (a 10 kB message and its pages).
  EXPECT_LE(largest, 64u * 1024 + 8 * 4120) << "2 MB were written";
}

TEST_F(writer_test, stop_drains_waiting_jobs_then_refuses) {
  auto w = std::make_unique<writer>(db, store);
  std::vector<std::future<std::exception_ptr>> done;
  for (int i = 0; i < 20; ++i) {
    done.push_back(submit(*w, [i](queue_store& s) { push_one(s, std::to_string(i)); }));
  }
  w->stop();
  for (auto& d : done) EXPECT_FALSE(d.get());
  auto late = submit(*w, [](queue_store& s) { push_one(s, "late"); });
  EXPECT_TRUE(late.get());
  EXPECT_EQ(count_rows(), 20);
}

// The metrics count only what committed: a job whose savepoint was rolled
// back, and a group whose commit failed, leave no change behind.
TEST_F(writer_test, only_committed_changes_are_counted) {
  store_options counting;
  counting.lenient = true;
  counting.count_changes = true;
  queue_store counted(db, clock, random, counting);
  std::vector<change_count> seen;
  std::vector<std::size_t> groups;
  writer_options options;
  options.committed = [&] {
    for (change_count& c : counted.take_changes()) seen.push_back(std::move(c));
  };
  options.group_done = [&](std::size_t jobs, std::chrono::nanoseconds took) {
    EXPECT_GE(took.count(), 0);
    groups.push_back(jobs);
  };
  writer w(db, counted, options);
  submit(w, [](queue_store& s) { push_one(s, "first"); }).get();
  // One group of two: the writer is held until both wait together.
  writer_hold hold(w);
  auto kept = submit(w, [](queue_store& s) { push_one(s, "kept"); });
  auto undone = submit(w, [](queue_store& s) {
    push_one(s, "undone");
    throw std::runtime_error("after its push");
  });
  EXPECT_EQ(hold.release(), nullptr);
  EXPECT_EQ(kept.get(), nullptr);
  EXPECT_NE(undone.get(), nullptr);
  // A group whose commit fails counts nothing.
  auto broken = submit(w, [&](queue_store& s) {
    push_one(s, "lost with the commit");
    db.exec("PRAGMA defer_foreign_keys = ON");
    db.exec(
        "INSERT INTO consumers (account_id, queue_id, consumer_id, type, created_us) "
        "VALUES ('acc', 'no-such-queue', 'c', 'http_pull', 0)");
  });
  EXPECT_NE(broken.get(), nullptr);
  w.stop();
  ASSERT_EQ(count_rows(), 2);
  std::vector<std::string> kinds;
  for (const change_count& c : seen) kinds.emplace_back(to_string(c.type));
  // The lenient first push made the queue.
  EXPECT_EQ(kinds, (std::vector<std::string>{"queue_created", "pushed", "pushed"}));
  EXPECT_EQ(groups, (std::vector<std::size_t>{1, 1, 2, 1}));
}

}  // namespace
}  // namespace flareq::storage
