// A thin RAII layer over one sqlite3 connection: open with flareq's pragmas,
// run SQL, and keep prepared statements cached for the connection's life.
// A database and its statements belong to one thread at a time (in the
// server: the writer thread); nothing here locks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace flareq::storage {

// Any failure reported by SQLite, with its (extended) result code.
class database_error : public std::runtime_error {
 public:
  database_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// One prepared statement. Values bound as text must outlive the next step().
class statement {
 public:
  statement(sqlite3* db, std::string_view sql, bool persistent);
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int index, std::int64_t value);
  statement& bind(int index, std::string_view text);
  statement& bind_null(int index);
  // Steps once: true when a row is ready, false when done.
  bool step();
  // Steps to the end, for statements that return no rows.
  void run();
  std::int64_t column_int64(int index) const;
  bool column_is_null(int index) const;
  std::string_view column_text(int index) const;
  // Resets the statement and clears its bindings, ending any read it holds.
  void reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached statement borrowed for one use; resets it when it goes out of scope.
class query {
 public:
  explicit query(statement& s) : s_(&s) {}
  ~query() { s_->reset(); }
  query(const query&) = delete;
  query& operator=(const query&) = delete;
  statement* operator->() const { return s_; }
  statement& operator*() const { return *s_; }

 private:
  statement* s_;
};

// Options for database::open. The defaults are what flareq ships with.
struct database_options {
  // "FULL": a commit is on disk before it returns, even across power loss.
  std::string synchronous = "FULL";
  // How long a statement waits for a lock held by another process (an
  // outside sqlite3 shell, say) before it fails.
  int busy_timeout_ms = 5000;
  // Page cache in KiB: large enough that a group's transaction never spills
  // to the WAL before its commit (64 batches of 100 small messages dirty
  // about 2 MB), small enough to keep the process near 24 MB.
  int cache_kib = 8 * 1024;
  // Checkpoints on commit (SQLite's default); off when a checkpointer
  // thread does them instead.
  bool auto_checkpoint = true;
  // Size the WAL file is cut back to when the log restarts (-1: never cut).
  std::int64_t journal_size_limit = -1;
};

// What one checkpoint did, in WAL frames (pages).
struct checkpoint_result {
  int log_frames = 0;           // frames in the WAL when it ran
  int checkpointed_frames = 0;  // of those, now copied into the database file
  bool busy = false;            // another connection held a lock it needed
};

// What to tell a user whose database cannot be written: which user must be
// able to write which files ("nobody (uid 65534) must be able to write ...").
std::string write_access_hint(const std::string& path);

// True for the result codes of a file that cannot be opened or written
// (SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH).
bool is_access_error(int code);

// One open connection.
class database {
 public:
  // Opens (creating if needed, with its parent folder) the database at path,
  // or an in-memory one for ":memory:", and applies WAL, synchronous,
  // foreign_keys and busy_timeout. Throws database_error, also when the file
  // can only be read (naming the file and the user flareq runs as).
  static database open(const std::string& path, const database_options& options = {});

  database(database&&) noexcept;
  database& operator=(database&&) noexcept;
  ~database();

  // Runs one or more SQL statements that return no rows.
  void exec(std::string_view sql);
  // Returns the cached statement for sql, preparing it on first use.
  query prepare(std::string_view sql);
  // Returns the number of rows changed by the last statement.
  std::int64_t changes() const;
  // Tells whether a transaction is open (SQLite ends one by itself on some errors).
  bool in_transaction() const;
  // Tells whether the file this connection has open is no longer at path
  // (deleted, renamed or replaced): what is written from then on is lost.
  bool file_has_moved() const;
  // Runs a WAL checkpoint in mode (SQLITE_CHECKPOINT_PASSIVE, RESTART or
  // TRUNCATE) outside any transaction; with wait_for_locks false it gives
  // up at once (busy) where it would wait for another connection's lock.
  // Throws database_error for anything but success or a busy lock.
  checkpoint_result checkpoint(int mode, bool wait_for_locks = true);
  // Closes the connection now, reporting what SQLite reports (a close also
  // checkpoints the WAL). The database is unusable afterwards; idempotent.
  void close();
  const std::string& path() const { return path_; }
  // The WAL file SQLite uses (beside the file a symlinked path leads to);
  // "" for :memory:.
  std::string wal_path() const;
  sqlite3* handle() const { return db_.get(); }

 private:
  struct closer {
    void operator()(sqlite3* db) const;
  };
  database(std::unique_ptr<sqlite3, closer> db, std::string path);

  std::unique_ptr<sqlite3, closer> db_;
  int busy_timeout_ms_ = 0;
  // Looked up by the SQL's text without copying it into a std::string.
  struct sql_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };
  // Declared after db_, so statements are finalized before the connection closes.
  std::unordered_map<std::string, std::unique_ptr<statement>, sql_hash, std::equal_to<>> cache_;
  std::string path_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless committed.
class transaction {
 public:
  explicit transaction(database& db);
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  void commit();

 private:
  database& db_;
  bool open_ = true;
};

}  // namespace flareq::storage
