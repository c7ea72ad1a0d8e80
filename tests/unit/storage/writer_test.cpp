// The writer: every job completes after its commit, a failing job does not
// fail its group, and stop() drains what waits.
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
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

class writer_test : public ::testing::Test {
 protected:
  writer_test()
      : db(database::open(dir.file("w.db"))),
        clock(1'000'000),
        random(3),
        store(db, clock, random, {}) {
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

}  // namespace
}  // namespace flareq::storage
