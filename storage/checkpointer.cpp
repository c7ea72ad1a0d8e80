// Background WAL checkpoints (see checkpointer.hpp).
#include "storage/checkpointer.hpp"

#include <sqlite3.h>

#include <optional>
#include <utility>

#include "storage/database.hpp"

namespace flareq::storage {

checkpointer::checkpointer(std::string path, std::chrono::milliseconds interval,
                           std::function<void(const std::string&)> report, std::mutex* turn)
    : path_(std::move(path)),
      interval_(interval),
      report_(std::move(report)),
      turn_(turn),
      thread_([this] { run(); }) {}

checkpointer::~checkpointer() {
  stop();
}

void checkpointer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

checkpointer_stats checkpointer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void checkpointer::fail(const std::string& what) {
  {
    std::lock_guard lock(mutex_);
    stats_.failures++;
  }
  if (what == last_failure_) return;  // said already
  last_failure_ = what;
  if (report_) report_("WAL checkpoint failed: " + what);
}

void checkpointer::run() {
  std::optional<database> db;
  try {
    database_options options;
    options.busy_timeout_ms = 1000;
    options.auto_checkpoint = false;
    // open() reads the schema, so the connection knows the file is in WAL
    // mode and has the WAL open: a checkpoint on a connection that never
    // read anything finds no WAL and does nothing.
    db.emplace(database::open(path_, options));
  } catch (const std::exception& e) {
    fail(e.what());
    return;
  }
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    try {
      // A database file moved or replaced: empty the WAL into the file this
      // connection has open at once, so that a crash before the writer
      // notices cannot leave it to be replayed into the file now at the path.
      int mode = db->file_has_moved() ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE;
      // PASSIVE: copies what it can without waiting for SQLite's locks or
      // blocking a commit; the writer's checkpoints wait for the turn.
      std::unique_lock<std::mutex> taken;
      if (turn_ != nullptr) taken = std::unique_lock(*turn_);
      checkpoint_result r = db->checkpoint(mode, false);
      if (taken) taken.unlock();
      if (!r.busy) {
        std::lock_guard guard(mutex_);
        stats_.checkpoints++;
        stats_.log_frames = r.log_frames;
      }
      last_failure_.clear();
    } catch (const std::exception& e) {
      fail(e.what());
    }
    lock.lock();
  }
}

}  // namespace flareq::storage
