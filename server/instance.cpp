// Wiring of one flareq (see instance.hpp).
#include "server/instance.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "server/app.hpp"
#include "server/event_hub.hpp"
#include "server/faults.hpp"
#include "server/http/server.hpp"
#include "server/metrics.hpp"
#include "storage/checkpointer.hpp"
#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/migrate.hpp"
#include "storage/queue_store.hpp"
#include "storage/writer.hpp"

namespace flareq {
namespace {

// The WAL's share of the disk: without --max-db-bytes, 64 MiB; with it, a
// quarter of the cap (the database file gets the rest). The writer restarts
// the WAL once a commit leaves more than half of its share in it, so one
// group commit's writes fit in the other half.
std::int64_t wal_share(const config& c) {
  constexpr std::int64_t unlimited_share = 64 << 20;
  if (c.max_db_bytes == 0) return unlimited_share;
  return std::min(unlimited_share, static_cast<std::int64_t>(c.max_db_bytes / 4));
}

storage::database open_migrated(const config& c, const logger& log) {
  storage::database_options options;
  options.journal_size_limit = wal_share(c) / 2;
  // A file database has a checkpointer thread (below); commits never checkpoint.
  options.auto_checkpoint = c.db == ":memory:";
  storage::database db = storage::database::open(c.db, options);
  try {
    storage::migrate(db);
    // The cap applies once migrated: a migration may hold a table twice
    // for a moment (the copy its rebuild makes), and a database the
    // previous release filled to its limit must still upgrade. (SQLite
    // keeps the cap at the file's size when the file is larger.) Writes past
    // it fail with SQLITE_FULL, as on a full disk, until deletes free pages.
    if (c.max_db_bytes != 0) {
      // SQLite's default page size.
      db.exec("PRAGMA max_page_count = " +
              std::to_string((static_cast<std::int64_t>(c.max_db_bytes) - wal_share(c)) / 4096));
    }
    // Start on an empty WAL: what a crash left in it goes into the file now.
    if (c.db != ":memory:" && db.checkpoint(SQLITE_CHECKPOINT_TRUNCATE).busy) {
      log.write(log_level::warn,
                "start-up checkpoint of " + c.db +
                    ": another program holds the database; the WAL is checkpointed later");
    }
  } catch (const storage::database_error& e) {
    // A root-owned -wal or -shm beside a writable file, say.
    if (!storage::is_access_error(e.code())) throw;
    throw storage::database_error(
        e.code(), std::string(e.what()) + " (" + storage::write_access_hint(c.db) + ")");
  }
  return db;
}

storage::writer_options writer_options_of(const config& c, const logger& log,
                                          storage::queue_store& store, event_hub& hub,
                                          std::mutex& turn, metrics_registry* metrics) {
  storage::writer_options o;
  if (c.db != ":memory:") o.wal_limit_bytes = wal_share(c) / 2;
  o.report = [&log](const std::string& problem) { log.write(log_level::error, problem); };
  o.checkpoint_turn = &turn;
  // Only what wrote events wakes the streams (reads and empty sweeps commit too).
  o.committed = [&store, &hub, metrics] {
    if (metrics != nullptr) metrics->count_changes(store.take_changes());
    if (store.take_recorded()) hub.notify();
  };
  if (metrics != nullptr) {
    o.group_done = [metrics](std::size_t jobs, std::chrono::nanoseconds took) {
      metrics->count_group(jobs, took);
    };
  }
  return o;
}

storage::store_options store_options_of(const config& c, storage::database& db) {
  storage::store_options o;
  o.lenient = c.lenient;
  o.declared = c.queues;
  o.journal_size = c.journal_size;
  o.count_changes = c.metrics;
  if (c.db != ":memory:") o.snapshot_dir = c.db + ".snapshots";
  // Pushes stop at a third of the pages the schema leaves (every table
  // and index holds a page even when empty), so that pull, ack and purge
  // still work on a full database: a lease grows a small message's row to
  // about twice its size and writes a journal row, and a whole queue of
  // them can be leased at once. And when the WAL is past its share (an
  // outside reader keeps it from restarting).
  if (c.max_db_bytes != 0) {
    auto roots = db.prepare("SELECT count(*) + 1 FROM sqlite_schema WHERE rootpage > 0");
    roots->step();
    std::int64_t schema_pages = roots->column_int64(0);
    std::int64_t file_pages = (static_cast<std::int64_t>(c.max_db_bytes) - wal_share(c)) / 4096;
    o.push_page_limit = schema_pages + std::max<std::int64_t>(0, file_pages - schema_pages) / 3;
    o.push_wal_limit = wal_share(c);
  }
  return o;
}

// A seed for the fault rules' dice when --seed gives none.
std::uint64_t seed_from(storage::random_source& random) {
  std::uint8_t bytes[8];
  random.fill(bytes);
  std::uint64_t seed = 0;
  for (std::uint8_t b : bytes) seed = seed << 8 | b;
  return seed;
}

http_limits limits_of(const config& c) {
  http_limits l;
  l.body_bytes = c.max_body_bytes;
  l.header_bytes = c.max_header_bytes;
  l.request_timeout = std::chrono::milliseconds(c.request_timeout_ms);
  l.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  l.max_connections = static_cast<std::size_t>(c.max_connections);
  return l;
}

// Journals what time makes due (delays ended, leases expired, retention)
// every 100 ms on the system clock, so that the event stream shows it
// without a request. A manual clock sweeps when it is moved instead.
class sweeper {
 public:
  explicit sweeper(storage::writer& writer) : writer_(writer), thread_([this] { run(); }) {}
  ~sweeper() { stop(); }
  sweeper(const sweeper&) = delete;
  sweeper& operator=(const sweeper&) = delete;

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // At most one sweep waits or runs at a time: a slow one is not piled on.
  struct sweep_job final : storage::job {
    explicit sweep_job(std::atomic<bool>& b) : busy(b) {}
    void execute(storage::queue_store& s) override { s.sweep(); }
    // The writer reports storage trouble itself.
    void complete(std::exception_ptr) noexcept override { busy.store(false); }
    std::atomic<bool>& busy;
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; })) {
      if (!busy_.exchange(true)) writer_.submit(std::make_unique<sweep_job>(busy_));
    }
  }

  storage::writer& writer_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::atomic<bool> busy_{false};
  std::thread thread_;  // started last
};

}  // namespace

// Members in dependency order: each is destroyed before what it uses.
struct instance::parts {
  parts(const config& c, const logger& l, storage::clock& clock, storage::random_source& random)
      : settings(c),
        log(l),
        listener(c.host, c.port),
        db(open_migrated(c, l)),
        store(db, clock, random, store_options_of(c, db)),
        faults(c.seed ? *c.seed : seed_from(random)),
        metrics(c.metrics ? std::make_unique<metrics_registry>(app::metric_labels()) : nullptr),
        writer(db, store, writer_options_of(c, l, store, hub, checkpoint_turn, metrics.get())),
        checkpoints(c.db == ":memory:" ? nullptr
                                       : std::make_unique<storage::checkpointer>(
                                             c.db, std::chrono::milliseconds(50),
                                             [&l](const std::string& problem) {
                                               l.write(log_level::error, problem);
                                             },
                                             &checkpoint_turn)),
        handler(writer, settings, log, {clock, random, hub, faults, metrics.get()}),
        server(handler, log, limits_of(c)) {
    if (metrics) metrics->open_connections = [this] { return server.open_connections(); };
    if (!c.accounts.empty()) provision();
    if (!clock.manual()) sweeps = std::make_unique<sweeper>(writer);
  }

  // Provisions the configuration file's queues on the writer, and waits.
  void provision() {
    struct provision_job final : storage::job {
      explicit provision_job(const std::vector<storage::account_spec>& a) : accounts(a) {}
      void execute(storage::queue_store& s) override {
        for (const auto& account : accounts) s.provision(account);
      }
      void complete(std::exception_ptr error) noexcept override { done.set_value(error); }
      const std::vector<storage::account_spec>& accounts;
      std::promise<std::exception_ptr> done;
    };
    auto job = std::make_unique<provision_job>(settings.accounts);
    auto done = job->done.get_future();
    writer.submit(std::move(job));
    if (auto error = done.get()) std::rethrow_exception(error);
  }

  const config& settings;
  const logger& log;
  // Bound first: a port in use stops start-up before the database is touched.
  listening_socket listener;
  storage::database db;
  storage::queue_store store;
  event_hub hub;
  fault_rules faults;
  std::mutex checkpoint_turn;  // the writer's and the checkpointer's checkpoints, one at a time
  std::unique_ptr<metrics_registry> metrics;  // none under --metrics=false
  storage::writer writer;
  std::unique_ptr<storage::checkpointer> checkpoints;  // none for :memory:
  app handler;
  http_server server;
  std::unique_ptr<sweeper> sweeps;  // none on a manual clock
  bool stopped = false;
};

instance::instance(const config& settings, const logger& log, storage::clock& clock,
                   storage::random_source& random)
    : parts_(std::make_unique<parts>(settings, log, clock, random)) {}

instance::~instance() {
  try {
    stop();
  } catch (const std::exception& e) {
    // stop() was not called, or failed and was reported: say it once more.
    parts_->log.write(log_level::error, std::string("closing the database: ") + e.what());
  }
}

std::uint16_t instance::start(bool handle_signals) {
  const config& c = parts_->settings;
  return parts_->server.start(parts_->listener, c.threads, handle_signals);
}

void instance::stop() {
  parts_->server.stop();
  wait();
}

void instance::wait() {
  parts& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  p.server.wait();
  if (p.sweeps) p.sweeps->stop();
  p.writer.stop();
  if (p.checkpoints) p.checkpoints->stop();
  // The last checkpoint, said before it runs so that a long one is
  // explained, then the close, whose errors are the caller's.
  if (p.settings.db != ":memory:" && p.db.file_has_moved()) {
    // Copy the WAL into the file this connection has open (gone, or under
    // another name) and empty it, so that the next start does not replay
    // it into whatever file is at the path now; then fail the exit.
    p.db.checkpoint(SQLITE_CHECKPOINT_TRUNCATE, false);
    p.db.close();
    throw storage::database_error(
        SQLITE_IOERR, "the database file " + p.settings.db +
                          " was deleted, moved or replaced while flareq ran: what it held went "
                          "with the old file, not into the one at that path now");
  }
  if (p.settings.db != ":memory:") {
    p.log.write(log_level::info, "final checkpoint of " + p.settings.db);
    // PASSIVE first, only to learn how much the WAL holds: TRUNCATE
    // reports an emptied log.
    int pages = p.db.checkpoint(SQLITE_CHECKPOINT_PASSIVE).log_frames;
    storage::checkpoint_result r = p.db.checkpoint(SQLITE_CHECKPOINT_TRUNCATE);
    if (r.busy)
      throw storage::database_error(SQLITE_BUSY, "final checkpoint: the database is busy");
    p.log.write(log_level::info,
                "final checkpoint done: the WAL's " + std::to_string(pages) +
                    " pages are in the database file",
                {{"pages", boost::json::value(pages), false}});
  }
  p.db.close();
}

}  // namespace flareq
