// Snapshots of the whole state (see queue_store.hpp). Save copies the
// database with SQLite's online backup API, between commits (the writer runs
// it alone), into <dir>/<name>.db (or into memory for :memory:). Restore
// first copies the snapshot into a scratch in-memory database, checks it and
// migrates it to this binary's schema, so that a missing, corrupt or too new
// snapshot fails with the state untouched; then it replaces every table but
// the journal and the declared queues deleted in this run (which stay
// deleted until flareq starts again) in one transaction. Runs on the writer
// thread.
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/migrate.hpp"
#include "storage/queue_store.hpp"

namespace flareq::storage {
namespace {

constexpr std::string_view snapshot_suffix = ".db";

struct sqlite_closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using sqlite_ptr = std::unique_ptr<sqlite3, sqlite_closer>;

// Copies the whole of from's main database into to's.
void copy_database(sqlite3* from, sqlite3* to, const std::string& what) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (backup == nullptr)
    throw database_error(sqlite3_errcode(to), what + ": " + sqlite3_errmsg(to));
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    throw database_error(rc, what + ": " + sqlite3_errstr(rc));
  }
}

sqlite_ptr open_raw(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  sqlite_ptr db(raw);
  if (rc != SQLITE_OK) {
    throw database_error(rc, path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  return db;
}

void exec_raw(sqlite3* db, const char* sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  std::string text = error != nullptr ? error : "";
  sqlite3_free(error);
  if (rc != SQLITE_OK) throw database_error(rc, text);
}

// The size of a connection's main database: pages times page size.
std::int64_t database_bytes(sqlite3* db) {
  std::int64_t out = 1;
  for (const char* sql : {"PRAGMA page_count", "PRAGMA page_size"}) {
    sqlite3_stmt* stmt = nullptr;
    std::int64_t value = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    out *= value;
  }
  return out;
}

std::int64_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

}  // namespace

// A snapshot of a :memory: database: its own in-memory connection.
struct queue_store::memory_snapshot {
  std::string name;
  std::int64_t created_ms = 0;
  sqlite_ptr db;
};

queue_store::~queue_store() = default;

std::string queue_store::snapshot_path(const std::string& name) const {
  return options_.snapshot_dir + "/" + name + std::string(snapshot_suffix);
}

snapshot_info queue_store::save_snapshot(const std::string& name) {
  std::int64_t now_ms = clock_.now_ms();
  if (options_.snapshot_dir.empty()) {
    auto copy = std::make_shared<memory_snapshot>();
    copy->name = name;
    copy->created_ms = now_ms;
    copy->db = open_raw(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    copy_database(db_.handle(), copy->db.get(), "snapshot " + name);
    std::int64_t size = database_bytes(copy->db.get());
    std::erase_if(memory_snapshots_, [&](const auto& s) { return s->name == name; });
    memory_snapshots_.push_back(std::move(copy));
    return {name, size, now_ms};
  }
  if (::mkdir(options_.snapshot_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw database_error(SQLITE_CANTOPEN, "cannot make the snapshot folder " +
                                              options_.snapshot_dir + ": " + std::strerror(errno));
  }
  // Written under a temporary name, then renamed: a crash never leaves half
  // a snapshot under the real one.
  std::string path = snapshot_path(name);
  std::string temporary = path + ".partial";
  std::remove(temporary.c_str());
  {
    sqlite_ptr out = open_raw(temporary, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    copy_database(db_.handle(), out.get(), "snapshot " + name);
    // A plain rollback-journal file: it opens read-only without a -shm.
    exec_raw(out.get(), "PRAGMA journal_mode = DELETE");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    int error = errno;
    std::remove(temporary.c_str());
    throw database_error(SQLITE_IOERR, "cannot write " + path + ": " + std::strerror(error));
  }
  // The file's time is the clock's (a manual clock's, too).
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = now_ms / 1000;
  times[0].tv_nsec = times[1].tv_nsec = (now_ms % 1000) * 1'000'000;
  ::utimensat(AT_FDCWD, path.c_str(), times, 0);
  return {name, file_bytes(path), now_ms};
}

std::vector<snapshot_info> queue_store::list_snapshots() {
  std::vector<snapshot_info> out;
  if (options_.snapshot_dir.empty()) {
    for (const auto& s : memory_snapshots_) {
      out.push_back({s->name, database_bytes(s->db.get()), s->created_ms});
    }
  } else if (DIR* dir = ::opendir(options_.snapshot_dir.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      std::string file = entry->d_name;
      if (file.size() <= snapshot_suffix.size() || !file.ends_with(snapshot_suffix)) continue;
      std::string path = options_.snapshot_dir + "/" + file;
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      out.push_back(
          {file.substr(0, file.size() - snapshot_suffix.size()),
           static_cast<std::int64_t>(st.st_size),
           static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000});
    }
    ::closedir(dir);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void queue_store::delete_snapshot(const std::string& name) {
  if (options_.snapshot_dir.empty()) {
    if (std::erase_if(memory_snapshots_, [&](const auto& s) { return s->name == name; }) == 0) {
      throw store_error(store_errc::snapshot_not_found, "no snapshot named " + name);
    }
    return;
  }
  std::string path = snapshot_path(name);
  if (std::remove(path.c_str()) != 0) {
    if (errno == ENOENT)
      throw store_error(store_errc::snapshot_not_found, "no snapshot named " + name);
    throw database_error(SQLITE_IOERR, "cannot delete " + path + ": " + std::strerror(errno));
  }
}

void queue_store::restore_snapshot(const std::string& name) {
  // 1. The snapshot, copied into a scratch database, checked and migrated.
  database scratch = database::open(":memory:");
  try {
    if (options_.snapshot_dir.empty()) {
      auto found = std::find_if(memory_snapshots_.begin(), memory_snapshots_.end(),
                                [&](const auto& s) { return s->name == name; });
      if (found == memory_snapshots_.end()) {
        throw store_error(store_errc::snapshot_not_found, "no snapshot named " + name);
      }
      copy_database((*found)->db.get(), scratch.handle(), "snapshot " + name);
    } else {
      std::string path = snapshot_path(name);
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) {
        throw store_error(store_errc::snapshot_not_found, "no snapshot named " + name);
      }
      sqlite_ptr source = open_raw(path, SQLITE_OPEN_READONLY);
      copy_database(source.get(), scratch.handle(), "snapshot " + name);
    }
    auto check = scratch.prepare("PRAGMA quick_check");
    if (!check->step() || check->column_text(0) != "ok") {
      throw store_error(store_errc::snapshot_unusable,
                        "snapshot " + name + " is damaged: " +
                            std::string(check->column_is_null(0) ? "" : check->column_text(0)));
    }
    check->reset();
    // An empty file opens as an empty database: no snapshot of ours.
    auto version = scratch.prepare("PRAGMA user_version");
    version->step();
    if (version->column_int64(0) == 0) {
      throw store_error(store_errc::snapshot_unusable,
                        "snapshot " + name + " is not a flareq database");
    }
    version->reset();
    migrate(scratch);
    // Every table of ours must be there (a file may claim our version).
    auto ours = db_.prepare(
        "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    auto theirs = scratch.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
    while (ours->step()) {
      theirs->bind(1, ours->column_text(0));
      bool found = theirs->step();
      theirs->reset();
      if (!found) {
        throw store_error(store_errc::snapshot_unusable, "snapshot " + name + " lacks the table " +
                                                             std::string(ours->column_text(0)) +
                                                             ": not a flareq database");
      }
    }
  } catch (const database_error& e) {
    throw store_error(store_errc::snapshot_unusable,
                      "snapshot " + name + " cannot be read: " + e.what());
  }
  sqlite3_int64 size = 0;
  unsigned char* bytes = sqlite3_serialize(scratch.handle(), "main", &size, 0);
  if (bytes == nullptr) throw database_error(SQLITE_NOMEM, "snapshot " + name + ": out of memory");
  scratch.close();

  // 2. Every table but the journal replaced in one transaction. Foreign
  // keys and the backlog triggers stay out of it: queues go first and come
  // back last, with the snapshot's counts.
  db_.exec("ATTACH ':memory:' AS snap");
  int rc = sqlite3_deserialize(db_.handle(), "snap", bytes, size, size,
                               SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
  struct cleanup {
    database& db;
    ~cleanup() {
      try {
        db.exec("DETACH snap");
        db.exec("PRAGMA foreign_keys = ON");
      } catch (...) {  // NOLINT(bugprone-empty-catch): the restore's own error matters
      }
    }
  } restore_settings{db_};
  if (rc != SQLITE_OK) throw database_error(rc, "snapshot " + name + ": " + sqlite3_errstr(rc));
  db_.exec("PRAGMA foreign_keys = OFF");
  std::vector<std::string> tables;
  {
    auto q = db_.prepare(
        "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT IN ('events', 'deleted_declared') ORDER BY name <> 'queues', name");
    while (q->step()) tables.emplace_back(q->column_text(0));
  }
  transaction tx(db_);
  for (const std::string& table : tables) db_.exec("DELETE FROM main." + table);
  std::rotate(tables.begin(), tables.begin() + 1, tables.end());  // queues last
  for (const std::string& table : tables) {
    std::string columns;
    auto q = db_.prepare("SELECT name FROM pragma_table_info(?1, 'main')");
    q->bind(1, table);
    while (q->step()) {
      if (!columns.empty()) columns += ", ";
      columns += "\"" + std::string(q->column_text(0)) + "\"";
    }
    q->reset();
    std::string copy = "INSERT INTO main.";
    copy.append(table).append(" (").append(columns).append(") SELECT ").append(columns);
    copy.append(" FROM snap.").append(table);
    db_.exec(copy);
  }
  record({.at_ms = clock_.now_ms(), .type = event_type::snapshot_restored, .name = name});
  tx.commit();
  retention_due_ms_ = 0;
}

}  // namespace flareq::storage
