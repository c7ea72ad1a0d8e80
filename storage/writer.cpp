// Group commit on the writer thread (see writer.hpp).
#include "storage/writer.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "storage/database.hpp"
#include "storage/queue_store.hpp"

namespace flareq::storage {

writer::writer(database& db, queue_store& store, writer_options options)
    : db_(db), store_(store), options_(std::move(options)) {
  auto page = db_.prepare("PRAGMA page_size");
  page->step();
  frame_bytes_ = page->column_int64(0) + 24;  // each frame has a 24-byte header
  // Called by SQLite on the writer thread after each commit, with the
  // number of frames in the WAL. Replaces automatic checkpoints, which the
  // writer's connection has turned off (database_options::auto_checkpoint).
  sqlite3_wal_hook(
      db_.handle(),
      [](void* self, sqlite3*, const char*, int frames) {
        static_cast<writer*>(self)->wal_frames_ = frames;
        return SQLITE_OK;
      },
      this);
  thread_ = std::thread([this] { run(); });
}

writer::~writer() {
  stop();
  if (db_.handle() != nullptr) sqlite3_wal_hook(db_.handle(), nullptr, nullptr);
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

void writer::say(const std::string& problem) {
  if (options_.report) options_.report(problem);
}

void writer::run() {
  std::deque<std::unique_ptr<job>> group;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;  // stopping, and nothing left to do
      // A group ends before a job that runs alone; that job goes by itself.
      while (!waiting_.empty() && group.size() < options_.max_group &&
             (group.empty() || !group.front()->alone()) && !waiting_.front()->alone()) {
        group.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
      }
      if (group.empty()) {
        group.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
      }
    }
    if (group.front()->alone()) {
      run_alone(*group.front());
    } else {
      run_group(group);
    }
    group.clear();
    bound_wal();
  }
}

bool writer::try_group(std::deque<std::unique_ptr<job>>& group,
                       std::vector<std::exception_ptr>& errors, std::vector<bool>& failed,
                       std::exception_ptr& commit_error) {
  // What a pass counted stands only if its transaction does.
  store_.undo_changes(0);
  try {
    transaction tx(db_);
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (failed[i]) continue;
      errors[i] = nullptr;
      db_.prepare("SAVEPOINT job")->run();
      std::size_t mark = store_.changes_mark();
      try {
        group[i]->execute(store_);
        db_.prepare("RELEASE job")->run();
      } catch (...) {
        errors[i] = std::current_exception();
        store_.undo_changes(mark);
        if (!db_.in_transaction()) {
          // SQLite rolled back the whole transaction (SQLITE_FULL in a
          // statement without a statement journal does): every job before
          // this one lost its writes too. Run the group again without it.
          failed[i] = true;
          return false;
        }
        db_.prepare("ROLLBACK TO job")->run();
        db_.prepare("RELEASE job")->run();
      }
    }
    tx.commit();
  } catch (...) {
    commit_error = std::current_exception();
    store_.undo_changes(0);
  }
  return true;
}

void writer::remember_wal() {
  if (db_.path() == ":memory:") return;
  wal_path_ = db_.wal_path();
  struct stat st {};
  if (wal_path_.empty() || ::stat(wal_path_.c_str(), &st) != 0) return;
  wal_device_ = st.st_dev;
  wal_inode_ = st.st_ino;
  wal_seen_ = true;
}

std::string writer::storage_lost() const {
  std::lock_guard lock(mutex_);
  return lost_;
}

void writer::watch_files() {
  if (db_.path() == ":memory:") return;
  std::string lost;
  if (db_.file_has_moved()) {
    lost = "the database file " + db_.path() + " was deleted, moved or replaced while flareq ran";
  } else if (wal_seen_) {
    // The WAL at its path must still be the file SQLite has open: deleted,
    // or deleted and made anew (touch, another program), it is not.
    struct stat st {};
    bool gone = ::stat(wal_path_.c_str(), &st) != 0
                    ? errno == ENOENT
                    : st.st_dev != wal_device_ || st.st_ino != wal_inode_;
    if (gone) lost = "the WAL file " + wal_path_ + " was deleted while flareq ran";
    // Its size, for bound_wal() before this group.
    wal_file_bytes_ = gone ? 0 : static_cast<std::int64_t>(st.st_size);
  }
  std::string before;
  {
    std::lock_guard lock(mutex_);
    before = lost_;
    lost_ = lost;
  }
  if (lost == before) return;
  if (lost.empty()) {
    say("the database file " + db_.path() + " and its WAL are back: storage works again");
    return;
  }
  // Copy what the WAL holds into the file this connection has open, and
  // empty the WAL, so that no stale WAL is replayed into another file.
  std::string copied;
  try {
    std::unique_lock<std::mutex> taken;
    if (options_.checkpoint_turn != nullptr) taken = std::unique_lock(*options_.checkpoint_turn);
    checkpoint_result r = db_.checkpoint(SQLITE_CHECKPOINT_TRUNCATE, false);
    copied = r.busy ? " (the WAL could not be emptied: another program holds the database)"
                    : "; what the WAL held was copied into the file flareq has open";
  } catch (const std::exception& e) {
    copied = std::string(" (the WAL could not be emptied: ") + e.what() + ")";
  }
  say(lost + ": requests that use storage fail until it is back or flareq restarts" + copied);
}

void writer::run_group(std::deque<std::unique_ptr<job>>& group) {
  std::vector<std::exception_ptr> errors(group.size());
  std::vector<bool> failed(group.size(), false);
  std::exception_ptr commit_error;
  std::uint64_t reruns = 0;
  watch_files();
  // Before the group too: a push refused for the WAL file's size must not
  // wait for a commit of its own to see the file emptied.
  bound_wal();
  wal_file_bytes_ = 0;  // what the group writes makes it stale
  if (std::string lost = storage_lost(); !lost.empty()) {
    commit_error = std::make_exception_ptr(database_error(SQLITE_IOERR, lost + "; restart flareq"));
  } else {
    // Each pass fails at least one more job, so this ends.
    auto began = std::chrono::steady_clock::now();
    while (!try_group(group, errors, failed, commit_error)) reruns++;
    if (options_.group_done) {
      options_.group_done(group.size(), std::chrono::steady_clock::now() - began);
    }
    if (!commit_error && !wal_seen_) remember_wal();
  }
  // What the store worked out in a transaction that did not stand is stale.
  if (commit_error || reruns > 0) store_.forget_cached();
  if (!commit_error && options_.committed) options_.committed();
  for (std::size_t i = 0; i < group.size(); ++i) {
    group[i]->complete(failed[i] ? errors[i] : commit_error ? commit_error : errors[i]);
  }
  std::lock_guard lock(mutex_);
  stats_.jobs += group.size();
  stats_.reruns += reruns;
  if (!commit_error) stats_.commits += 1;
  stats_.wal_frames = wal_frames_;
}

void writer::run_alone(job& j) {
  watch_files();
  std::exception_ptr error;
  if (std::string lost = storage_lost(); !lost.empty()) {
    error = std::make_exception_ptr(database_error(SQLITE_IOERR, lost + "; restart flareq"));
  } else {
    try {
      j.execute(store_);
    } catch (...) {
      error = std::current_exception();
      store_.forget_cached();
      store_.undo_changes(0);
    }
  }
  if (options_.committed) options_.committed();
  j.complete(error);
  std::lock_guard lock(mutex_);
  stats_.jobs += 1;
  stats_.wal_frames = wal_frames_;
}

void writer::bound_wal() {
  if (options_.wal_limit_bytes <= 0 || !storage_lost().empty()) return;
  std::int64_t wal_bytes = static_cast<std::int64_t>(wal_frames_) * frame_bytes_;
  bool file_only = wal_bytes <= options_.wal_limit_bytes;
  if (file_only) {
    // The log is small, but the file may not be: a restart that an outside
    // reader held back, or one that left the file as it was. Empty it once
    // it is past twice the bound (pushes are refused past that). The size
    // is the one watch_files() saw before this group.
    if (wal_file_bytes_ <= 2 * options_.wal_limit_bytes) return;
    wal_bytes = wal_file_bytes_;
  }
  try {
    // RESTART: copies every frame into the database file, then makes the
    // next commit write the WAL from its start again (and cut the file
    // back to journal_size_limit). TRUNCATE when one commit made the WAL
    // far larger (a queue purge rewrites the whole file), to free the disk
    // at once. Neither waits for SQLite's locks: busy when another program
    // reads or checkpoints, and the next commit tries again. Our own
    // checkpointer thread is waited for instead (the turn): at most the
    // rest of one of its PASSIVE checkpoints, and only past the bound.
    int mode = wal_bytes > 2 * options_.wal_limit_bytes ? SQLITE_CHECKPOINT_TRUNCATE
                                                        : SQLITE_CHECKPOINT_RESTART;
    std::unique_lock<std::mutex> taken;
    if (options_.checkpoint_turn != nullptr) taken = std::unique_lock(*options_.checkpoint_turn);
    checkpoint_result r = db_.checkpoint(mode, false);
    // A file left past twice the bound refuses pushes: when another
    // program's checkpoint or read holds the lock for a moment, wait it out
    // rather than refuse the push this group carries. (Rare: only when the
    // WAL file is past twice its bound.)
    for (int tries = 0; r.busy && file_only && tries < 20; ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      r = db_.checkpoint(mode, false);
    }
    if (r.busy) return;
    wal_frames_ = 0;
    wal_file_bytes_ = 0;
    std::lock_guard lock(mutex_);
    stats_.wal_restarts++;
  } catch (const std::exception& e) {
    say(std::string("WAL checkpoint failed: ") + e.what());
  }
}

}  // namespace flareq::storage
