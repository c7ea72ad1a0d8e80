// The checkpointer: a thread with a connection of its own that copies the
// WAL back into the database file (PASSIVE checkpoints, which never block
// a commit; the writer's own checkpoints wait for one to end), so that
// commits on the writer thread seldom have to. The
// writer's connection has its automatic checkpoints turned off; the writer
// restarts the WAL itself when it passes its bound (writer.hpp). Started and
// stopped by the thread that owns the instance; problems go to report, on
// the checkpointer's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace flareq::storage {

struct checkpointer_stats {
  std::uint64_t checkpoints = 0;  // checkpoints that ran
  std::uint64_t failures = 0;     // checkpoints that failed
  int log_frames = 0;             // frames in the WAL at the last one
};

class checkpointer {
 public:
  // Checkpoints the database at path every interval until stop(). report
  // (may be empty) is told of each new kind of failure. While it
  // checkpoints it holds turn (when given), which the writer takes for its
  // own checkpoints: they then wait for this one instead of finding the
  // WAL busy.
  checkpointer(std::string path, std::chrono::milliseconds interval,
               std::function<void(const std::string&)> report = {}, std::mutex* turn = nullptr);
  ~checkpointer();
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;
  void stop();
  checkpointer_stats stats() const;

 private:
  void run();
  void fail(const std::string& what);

  std::string path_;
  std::chrono::milliseconds interval_;
  std::function<void(const std::string&)> report_;
  std::mutex* turn_;          // may be null
  std::string last_failure_;  // the checkpointer thread's alone
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;     // guarded by mutex_
  checkpointer_stats stats_;  // guarded by mutex_
  std::thread thread_;        // started last
};

}  // namespace flareq::storage
