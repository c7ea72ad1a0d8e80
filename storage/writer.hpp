// The writer: the one thread that owns the database connection (and the
// queue_store on it) while the server runs. Any thread submits jobs; the
// writer takes every job waiting, runs them in one BEGIN IMMEDIATE ...
// COMMIT (group commit: one fsync for many requests), each inside its own
// savepoint so that one failing job does not fail the others, and only after
// the commit tells each job how it ended. A job is therefore complete only
// when what it wrote is durable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace flareq::storage {

class database;
class queue_store;

// One unit of work for the writer. Both methods run on the writer thread.
class job {
 public:
  virtual ~job() = default;
  // Does the work inside the group's transaction. An exception rolls back
  // this job's savepoint and becomes its error.
  virtual void execute(queue_store& store) = 0;
  // Reports the end: error is null when execute succeeded and the commit
  // holding its writes succeeded. Must not throw.
  virtual void complete(std::exception_ptr error) noexcept = 0;
};

struct writer_stats {
  std::uint64_t jobs = 0;     // jobs completed
  std::uint64_t commits = 0;  // transactions committed
};

class writer {
 public:
  // Starts the thread. db and store must outlive the writer and must not be
  // touched by any other thread until stop() returns.
  writer(database& db, queue_store& store);
  ~writer();
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  // Queues a job; safe from any thread. After stop(), the job completes at
  // once (on the calling thread) with an error.
  void submit(std::unique_ptr<job> j);

  // Runs the jobs already waiting, then ends the thread. Idempotent.
  void stop();

  writer_stats stats() const;

 private:
  void run();
  void run_group(std::deque<std::unique_ptr<job>>& group);

  database& db_;
  queue_store& store_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<job>> waiting_;  // guarded by mutex_
  bool stopping_ = false;                     // guarded by mutex_
  writer_stats stats_;                        // guarded by mutex_
  std::thread thread_;                        // started last
};

}  // namespace flareq::storage
