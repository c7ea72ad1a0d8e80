// The writer: the one thread that owns the database connection (and the
// queue_store on it) while the server runs. Any thread submits jobs; the
// writer takes every job waiting, runs them in one BEGIN IMMEDIATE ...
// COMMIT (group commit: one fsync for many requests), each inside its own
// savepoint so that one failing job does not fail the others, and only after
// the commit tells each job how it ended. A job is therefore complete only
// when what it wrote is durable. When a job's failure makes SQLite roll back
// the whole transaction (SQLITE_FULL does), the group runs again without it.
//
// A group is at most max_group jobs, so that one commit's share of the WAL
// stays bounded too. Between groups the writer keeps the WAL bounded: once a
// commit leaves more than wal_limit_bytes in it, the writer checkpoints and
// restarts it (TRUNCATE past twice the bound, so the disk space comes back),
// never waiting for another program's locks (it tries again after the next
// commit). Before each group it checks that the database file is still the
// one it opened and that its WAL file still exists; while either is not so,
// every job fails (nothing written then would survive a restart), and on the
// way into that state the WAL is copied into the file the writer has open
// and emptied, so that no stale WAL is replayed into whatever file a
// restart finds at the path.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace flareq::storage {

class database;
class queue_store;

// One unit of work for the writer. Both methods run on the writer thread.
class job {
 public:
  virtual ~job() = default;
  // A job that runs alone runs between groups, outside any transaction
  // (it opens its own): a snapshot, a restore. No other job runs meanwhile.
  virtual bool alone() const { return false; }
  // Does the work inside the group's transaction. An exception rolls back
  // this job's savepoint and becomes its error.
  virtual void execute(queue_store& store) = 0;
  // Reports the end: error is null when execute succeeded and the commit
  // holding its writes succeeded. Must not throw.
  virtual void complete(std::exception_ptr error) noexcept = 0;
};

struct writer_stats {
  std::uint64_t jobs = 0;          // jobs completed
  std::uint64_t commits = 0;       // transactions committed
  std::uint64_t reruns = 0;        // groups run again without a job that ended the transaction
  std::uint64_t wal_restarts = 0;  // checkpoints that restarted the WAL at its bound
  std::int64_t wal_frames = 0;     // frames in the WAL after the last commit
};

struct writer_options {
  // Restart the WAL when a commit leaves more than this in it (0: never).
  std::int64_t wal_limit_bytes = 0;
  // Jobs in one transaction at most.
  std::size_t max_group = 64;
  // Told (on the writer thread) of problems no single job owns: the
  // database file gone, a checkpoint that failed. May be empty.
  std::function<void(const std::string&)> report;
  // Held while the writer checkpoints; the checkpointer thread holds it
  // while it does (so neither finds the other's checkpoint in the way).
  // May be null.
  std::mutex* checkpoint_turn = nullptr;
  // Called on the writer thread after each successful commit (and after a
  // job that ran alone), before the jobs are told: the journal's readers
  // wait for it. May be empty; must not throw.
  std::function<void()> committed;
  // Called on the writer thread after each group (committed or not): how
  // many jobs it held and how long its transaction took, from BEGIN to the
  // end of COMMIT (reruns included). May be empty; must not throw.
  std::function<void(std::size_t jobs, std::chrono::nanoseconds took)> group_done;
};

class writer {
 public:
  // Starts the thread. db and store must outlive the writer and must not be
  // touched by any other thread until stop() returns.
  writer(database& db, queue_store& store, writer_options options = {});
  ~writer();
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  // Queues a job; safe from any thread. After stop(), the job completes at
  // once (on the calling thread) with an error.
  void submit(std::unique_ptr<job> j);

  // Runs the jobs already waiting, then ends the thread. Idempotent.
  void stop();

  writer_stats stats() const;

  // Why storage is refused now ("" while all is well): the database file or
  // its WAL is gone. Safe from any thread.
  std::string storage_lost() const;

 private:
  void run();
  void run_group(std::deque<std::unique_ptr<job>>& group);
  void run_alone(job& j);
  // Runs the jobs not yet failed in one transaction; false when a job's
  // failure ended the transaction (that job is then failed, the rest not run).
  bool try_group(std::deque<std::unique_ptr<job>>& group, std::vector<std::exception_ptr>& errors,
                 std::vector<bool>& failed, std::exception_ptr& commit_error);
  void bound_wal();
  void say(const std::string& problem);
  // Checks the files before a group; says so when that changes.
  void watch_files();
  // Notes which file the WAL is, after the first commit.
  void remember_wal();

  database& db_;
  queue_store& store_;
  writer_options options_;
  std::int64_t frame_bytes_ = 0;  // the writer thread's: a WAL frame's size
  int wal_frames_ = 0;            // the writer thread's: set by the WAL hook on commit
  // The writer thread's: the WAL file SQLite has open, once a commit made it.
  std::string wal_path_;
  bool wal_seen_ = false;
  unsigned long long wal_device_ = 0, wal_inode_ = 0;
  std::int64_t wal_file_bytes_ = 0;  // the writer thread's: the WAL file's size before a group
  std::string lost_;                 // guarded by mutex_: why storage is refused, or ""
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<job>> waiting_;  // guarded by mutex_
  bool stopping_ = false;                     // guarded by mutex_
  writer_stats stats_;                        // guarded by mutex_
  std::thread thread_;                        // started last
};

}  // namespace flareq::storage
