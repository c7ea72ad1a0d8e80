// The real flareq, in-process on 127.0.0.1 and a free port, with a fake
// clock and a seeded random source, on a database file in a temp folder.
// It stops by itself when the object goes. Driven by one test thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/config.hpp"
#include "server/log.hpp"
#include "storage/clock.hpp"
#include "storage/ids.hpp"
#include "tests/support/temp_dir.hpp"

namespace flareq {
class instance;
}

namespace flareq::test {

// 2026-11-29T19:45:52.123456Z, the fake clock's start.
inline constexpr std::int64_t test_epoch_us = 1'795'981'552'123'456;

// For test_server's adjust: the local conveniences (--lenient), for tests
// that push to ad-hoc queue ids or pull without a consumer.
inline void lenient(config& c) {
  c.lenient = true;
}

class test_server {
 public:
  // adjust may change the settings (tokens, strict, ...); host, port and db
  // are set for the test first.
  explicit test_server(const std::function<void(config&)>& adjust = {});
  ~test_server();

  std::uint16_t port() const { return port_; }
  const std::string& db_path() const { return settings_.db; }
  storage::fake_clock& clock() { return clock_; }

  // Stops gracefully (requests in flight are answered, the database closed).
  void stop();
  // Stops, then starts again on the same database (on a new port).
  void restart();

 private:
  void start();

  temp_dir dir_;
  config settings_;
  logger log_{log_level::warn};
  storage::fake_clock clock_{test_epoch_us};
  storage::seeded_random random_{42};
  std::unique_ptr<instance> instance_;
  std::uint16_t port_ = 0;
};

}  // namespace flareq::test
