// Background WAL checkpoints (see checkpointer.hpp).
#include "storage/checkpointer.hpp"

#include <sqlite3.h>

#include <utility>

namespace flareq::storage {

checkpointer::checkpointer(std::string path, std::chrono::milliseconds interval)
    : path_(std::move(path)), interval_(interval), thread_([this] { run(); }) {}

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

void checkpointer::run() {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(db);
    return;  // the writer's own connection reports problems with the file
  }
  sqlite3_busy_timeout(db, 1000);
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    // PASSIVE: copies what it can without waiting for, or blocking, anyone.
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
  sqlite3_close_v2(db);
}

}  // namespace flareq::storage
