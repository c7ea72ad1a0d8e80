// One running flareq: database, queue store, writer thread, app and HTTP
// server, wired in the order they depend on each other. main() runs one;
// end-to-end tests run one in-process with a fake clock and a seeded
// random source. start/stop/wait are called from one controlling thread.
#pragma once

#include <cstdint>
#include <memory>

#include "server/config.hpp"

namespace flareq {

namespace storage {
class clock;
class random_source;
}  // namespace storage

class instance {
 public:
  // Binds the listen address, opens and migrates the database, and
  // provisions the configuration file's queues. Throws listen_error (before
  // anything touches the database), storage::database_error, or
  // storage::store_error when a provisioned queue's name belongs to another
  // queue.
  // settings, log, clock and random must outlive the instance.
  instance(const config& settings, const logger& log, storage::clock& clock,
           storage::random_source& random);
  ~instance();
  instance(const instance&) = delete;
  instance& operator=(const instance&) = delete;

  // Listens and starts the I/O threads; returns the bound port. With
  // handle_signals, SIGINT and SIGTERM stop it gracefully.
  std::uint16_t start(bool handle_signals);

  // Stops gracefully: no new connections, requests in flight answered, the
  // writer drained, the database closed (see wait()). Idempotent.
  void stop();

  // Blocks until the server has stopped (after a signal or stop()), then
  // drains the writer, checkpoints the WAL into the database file (logged)
  // and closes it. Throws storage::database_error when the checkpoint or
  // the close fails.
  void wait();

 private:
  struct parts;
  std::unique_ptr<parts> parts_;
};

}  // namespace flareq
