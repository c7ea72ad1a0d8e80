// The checkpointer: a thread with a connection of its own that copies the
// WAL back into the database file (PASSIVE checkpoints, which never block
// the writer), so that no commit on the writer thread has to do it. The
// writer's connection has its automatic checkpoints turned off. Started and
// stopped by the thread that owns the instance.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace flareq::storage {

class checkpointer {
 public:
  // Checkpoints the database at path every interval until stop().
  checkpointer(std::string path, std::chrono::milliseconds interval);
  ~checkpointer();
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;
  void stop();

 private:
  void run();

  std::string path_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // started last
};

}  // namespace flareq::storage
