// Wiring of one flareq (see instance.hpp).
#include "server/instance.hpp"

#include <future>

#include "server/app.hpp"
#include "server/http/server.hpp"
#include "storage/checkpointer.hpp"
#include "storage/database.hpp"
#include "storage/migrate.hpp"
#include "storage/queue_store.hpp"
#include "storage/writer.hpp"

namespace flareq {
namespace {

storage::database open_migrated(const config& c) {
  storage::database_options options;
  // SQLite's default page size.
  options.max_page_count = static_cast<std::int64_t>(c.max_db_bytes / 4096);
  // A file database has a checkpointer thread (below); commits never checkpoint.
  options.auto_checkpoint = c.db == ":memory:";
  storage::database db = storage::database::open(c.db, options);
  storage::migrate(db);
  return db;
}

storage::store_options store_options_of(const config& c) {
  storage::store_options o;
  o.create_on_push = !c.strict;
  o.declared = c.queues;
  return o;
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

}  // namespace

// Members in dependency order: each is destroyed before what it uses.
struct instance::parts {
  parts(const config& c, const logger& l, storage::clock& clock, storage::random_source& random)
      : settings(c),
        log(l),
        db(open_migrated(c)),
        store(db, clock, random, store_options_of(c)),
        writer(db, store),
        checkpoints(c.db == ":memory:" ? nullptr
                                       : std::make_unique<storage::checkpointer>(
                                             c.db, std::chrono::milliseconds(50))),
        handler(writer, settings, log),
        server(handler, log, limits_of(c)) {
    if (!c.accounts.empty()) provision();
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
  storage::database db;
  storage::queue_store store;
  storage::writer writer;
  std::unique_ptr<storage::checkpointer> checkpoints;  // none for :memory:
  app handler;
  http_server server;
  bool stopped = false;
};

instance::instance(const config& settings, const logger& log, storage::clock& clock,
                   storage::random_source& random)
    : parts_(std::make_unique<parts>(settings, log, clock, random)) {}

instance::~instance() {
  stop();
}

std::uint16_t instance::start(bool handle_signals) {
  const config& c = parts_->settings;
  return parts_->server.start(c.host, c.port, c.threads, handle_signals);
}

void instance::stop() {
  parts_->server.stop();
  wait();
}

void instance::wait() {
  if (parts_->stopped) return;
  parts_->server.wait();
  parts_->writer.stop();
  if (parts_->checkpoints) parts_->checkpoints->stop();
  parts_->stopped = true;
}

}  // namespace flareq
