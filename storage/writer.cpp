// Group commit on the writer thread (see writer.hpp).
#include "storage/writer.hpp"

#include <stdexcept>
#include <vector>

#include "storage/database.hpp"
#include "storage/queue_store.hpp"

namespace flareq::storage {

writer::writer(database& db, queue_store& store)
    : db_(db), store_(store), thread_([this] { run(); }) {}

writer::~writer() {
  stop();
}

void writer::submit(std::unique_ptr<job> j) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      waiting_.push_back(std::move(j));
      wake_.notify_one();
      return;
    }
  }
  j->complete(std::make_exception_ptr(std::runtime_error("storage is shutting down")));
}

void writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

writer_stats writer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void writer::run() {
  std::deque<std::unique_ptr<job>> group;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;  // stopping, and nothing left to do
      group.swap(waiting_);
    }
    run_group(group);
    group.clear();
  }
}

void writer::run_group(std::deque<std::unique_ptr<job>>& group) {
  std::vector<std::exception_ptr> errors(group.size());
  std::exception_ptr commit_error;
  try {
    transaction tx(db_);
    for (std::size_t i = 0; i < group.size(); ++i) {
      db_.prepare("SAVEPOINT job")->run();
      try {
        group[i]->execute(store_);
        db_.prepare("RELEASE job")->run();
      } catch (...) {
        errors[i] = std::current_exception();
        // Some errors (a full disk, say) make SQLite roll back the whole
        // transaction: then every job of the group has lost its writes.
        if (!db_.in_transaction()) std::rethrow_exception(errors[i]);
        db_.prepare("ROLLBACK TO job")->run();
        db_.prepare("RELEASE job")->run();
      }
    }
    tx.commit();
  } catch (...) {
    commit_error = std::current_exception();
  }
  for (std::size_t i = 0; i < group.size(); ++i) {
    group[i]->complete(commit_error ? commit_error : errors[i]);
  }
  std::lock_guard lock(mutex_);
  stats_.jobs += group.size();
  if (!commit_error) stats_.commits += 1;
}

}  // namespace flareq::storage
