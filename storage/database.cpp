// sqlite3 wrappers (see database.hpp).
#include "storage/database.hpp"

#include <sqlite3.h>

#include <fcntl.h>
#include <pwd.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <mutex>
#include <utility>

namespace flareq::storage {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw database_error(db != nullptr ? sqlite3_extended_errcode(db) : rc, message);
}

// "nobody (uid 65534)": the user this process runs as, for error messages.
std::string current_user() {
  uid_t uid = geteuid();
  std::string name = "uid " + std::to_string(uid);
  if (const passwd* pw = getpwuid(uid); pw != nullptr && pw->pw_name != nullptr) {
    return std::string(pw->pw_name) + " (" + name + ")";
  }
  return name;
}

// The path as SQLite works on it: absolute, symbolic links followed, `..`
// resolved; empty when it cannot be told.
std::filesystem::path resolved(const std::string& path) {
  std::error_code ec;
  std::filesystem::path file =
      std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  return ec ? std::filesystem::path() : file;
}

// The first of the file itself (a bind mount of one file) and the nearest
// existing folder at or above its own (where SQLite makes the -wal and -shm
// files) that is on a file system mounted read-only (a volume mounted with
// :ro, say); else empty.
std::string read_only_mount(const std::string& path) {
  std::filesystem::path file = resolved(path);
  if (file.empty()) return {};
  std::error_code ec;
  auto read_only = [](const std::filesystem::path& at) {
    struct statvfs fs {};
    return ::statvfs(at.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0;
  };
  if (std::filesystem::exists(file, ec) && read_only(file)) return file.string();
  std::filesystem::path at = file.parent_path();
  while (!at.empty() && !std::filesystem::exists(at, ec) && at != at.root_path()) {
    at = at.parent_path();
  }
  if (read_only(at)) return at.string();
  return {};
}

// The errors of a file system call that access (permissions, a read-only
// mount) explains.
bool is_access_errno(int error) {
  return error == EACCES || error == EPERM || error == EROFS;
}

// Whether access explains a file SQLite could not open: a read-only mount,
// or a file or folder this process may not write (SQLite keeps no errno
// of a failed open to tell).
bool access_explains(const std::string& path) {
  if (!read_only_mount(path).empty()) return true;
  std::filesystem::path file = resolved(path);
  if (file.empty()) return false;
  auto cannot_write = [](const std::filesystem::path& at, int mode) {
    return ::faccessat(AT_FDCWD, at.c_str(), mode, AT_EACCESS) != 0 && is_access_errno(errno);
  };
  std::error_code ec;
  if (std::filesystem::exists(file, ec) && cannot_write(file, W_OK)) return true;
  return cannot_write(file.parent_path(), W_OK | X_OK);
}

}  // namespace

std::string write_access_hint(const std::string& path) {
  if (std::string folder = read_only_mount(path); !folder.empty()) {
    return folder + " is on a file system mounted read-only: mount it read-write";
  }
  return current_user() + " must be able to write " + path +
         ", its -wal and -shm files, and its folder";
}

bool is_access_error(int code) {
  int primary = code & 0xff;
  return primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM ||
         primary == SQLITE_AUTH;
}

statement::statement(sqlite3* db, std::string_view sql, bool persistent) : db_(db) {
  unsigned flags = persistent ? SQLITE_PREPARE_PERSISTENT : 0;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "prepare");
}

statement::~statement() {
  sqlite3_finalize(stmt_);
}

statement& statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

statement& statement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

statement& statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

bool statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, "step");
}

void statement::run() {
  while (step()) {
  }
}

std::int64_t statement::column_int64(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

bool statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

std::string_view statement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  int size = sqlite3_column_bytes(stmt_, index);
  return text == nullptr ? std::string_view()
                         : std::string_view(text, static_cast<std::size_t>(size));
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void database::closer::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

database::database(std::unique_ptr<sqlite3, closer> db, std::string path)
    : db_(std::move(db)), path_(std::move(path)) {}

database::database(database&&) noexcept = default;
database& database::operator=(database&&) noexcept = default;

database::~database() {
  // Statements first: the connection closes cleanly only with none left.
  cache_.clear();
}

database database::open(const std::string& path, const database_options& options) {
  if (path != ":memory:") {
    auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      std::string message = "cannot create folder " + parent.string() + ": " + ec.message();
      if (is_access_errno(ec.value())) message += " (" + write_access_hint(path) + ")";
      throw database_error(SQLITE_CANTOPEN, message);
    }
  }
  // Before SQLite's first use: no memory statistics. Keeping them takes a
  // process-wide mutex on every allocation SQLite makes (a tenth of a
  // batch push's instructions), and nothing reads them. Too late (SQLite
  // already initialised by someone else) only costs that time.
  static std::once_flag no_memory_statistics;
  std::call_once(no_memory_statistics, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, closer> handle(raw);
  if (rc != SQLITE_OK) {
    std::string message =
        "open " + path + ": " + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    // A file SQLite cannot open for another reason (a folder, a name too
    // long, a dangling link) gets no hint about access.
    bool access = (rc & 0xff) == SQLITE_CANTOPEN ? access_explains(path) : is_access_error(rc);
    if (access) message += " (" + write_access_hint(path) + ")";
    throw database_error(raw != nullptr ? sqlite3_extended_errcode(raw) : rc, message);
  }
  sqlite3_extended_result_codes(raw, 1);
  // SQLITE_OPEN_READWRITE falls back to read-only when the file cannot be
  // written: every write would fail later, so refuse to start instead.
  if (sqlite3_db_readonly(raw, "main") == 1) {
    throw database_error(SQLITE_READONLY,
                         "the file " + path + " is read-only: " + write_access_hint(path));
  }
  database db(std::move(handle), path);
  db.busy_timeout_ms_ = options.busy_timeout_ms;
  try {
    db.exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms));
    // Reading the schema proves the file is a database before anything is written.
    db.exec("SELECT count(*) FROM sqlite_schema");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = " + options.synchronous);
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA cache_size = -" + std::to_string(options.cache_kib));
    if (!options.auto_checkpoint) db.exec("PRAGMA wal_autocheckpoint = 0");
    if (options.journal_size_limit >= 0) {
      db.exec("PRAGMA journal_size_limit = " + std::to_string(options.journal_size_limit));
    }
  } catch (const database_error& e) {
    // A writable file in a folder that is not (no -wal, no -shm), say.
    if (!is_access_error(e.code())) throw;
    throw database_error(e.code(), std::string(e.what()) + " (" + write_access_hint(path) + ")");
  }
  return db;
}

void database::exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw database_error(sqlite3_extended_errcode(db_.get()), message);
  }
}

query database::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(std::string(sql), std::make_unique<statement>(db_.get(), sql, true)).first;
  }
  return query(*it->second);
}

std::int64_t database::changes() const {
  return sqlite3_changes64(db_.get());
}

bool database::in_transaction() const {
  return sqlite3_get_autocommit(db_.get()) == 0;
}

std::string database::wal_path() const {
  sqlite3_filename name = sqlite3_db_filename(db_.get(), "main");
  if (name == nullptr || *name == '\0') return {};
  const char* wal = sqlite3_filename_wal(name);
  return wal != nullptr ? std::string(wal) : std::string();
}

bool database::file_has_moved() const {
  int moved = 0;
  // SQLITE_NOTFOUND (no file behind it, as for :memory:) leaves moved at 0.
  sqlite3_file_control(db_.get(), "main", SQLITE_FCNTL_HAS_MOVED, &moved);
  return moved != 0;
}

checkpoint_result database::checkpoint(int mode, bool wait_for_locks) {
  checkpoint_result r;
  if (!wait_for_locks) sqlite3_busy_timeout(db_.get(), 0);
  int rc =
      sqlite3_wal_checkpoint_v2(db_.get(), "main", mode, &r.log_frames, &r.checkpointed_frames);
  if (!wait_for_locks) sqlite3_busy_timeout(db_.get(), busy_timeout_ms_);
  if (rc == SQLITE_BUSY) {
    r.busy = true;
  } else if (rc != SQLITE_OK) {
    fail(db_.get(), rc, "checkpoint");
  }
  return r;
}

void database::close() {
  if (!db_) return;
  cache_.clear();
  sqlite3* raw = db_.release();
  int rc = sqlite3_close(raw);
  if (rc != SQLITE_OK) {
    std::string message = "close: " + std::string(sqlite3_errmsg(raw));
    int code = sqlite3_extended_errcode(raw);
    sqlite3_close_v2(raw);  // releases what it can once the last user is gone
    throw database_error(code, message);
  }
}

// BEGIN, COMMIT and ROLLBACK are cached statements: a group commit runs
// them for every group, and parsing them each time cost more than the rest
// of a small push's SQL.
transaction::transaction(database& db) : db_(db) {
  db_.prepare("BEGIN IMMEDIATE")->run();
}

transaction::~transaction() {
  if (open_) {
    try {
      db_.prepare("ROLLBACK")->run();
    } catch (...) {
      // The rollback of a failed transaction cannot fail usefully; SQLite
      // has already rolled back when it reports that no transaction is open.
    }
  }
}

void transaction::commit() {
  db_.prepare("COMMIT")->run();
  open_ = false;
}

}  // namespace flareq::storage
