// flareq's settings: command-line flags, each with an environment twin
// (FLAREQ_*). A flag wins over its variable, a variable over the default.
// Parsed once in main (or a test) before any thread starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "server/log.hpp"
#include "storage/queue_store.hpp"

namespace flareq {

struct config {
  std::string host = "127.0.0.1";               // listen address
  std::uint16_t port = 8789;                    // 0 picks a free port
  std::string db = "./data/flareq.db";          // SQLite file, or ":memory:"
  std::vector<std::string> api_tokens;          // empty: any well-formed credential
  bool lenient = false;                         // create on push, pull without consumer
  bool metrics = true;                          // GET /metrics, and counting for it
  std::vector<storage::declared_queue> queues;  // exist in every account
  std::int64_t max_delay_seconds = 86400;       // largest delay_seconds accepted
  int threads = 2;                              // I/O threads
  log_level level = log_level::info;            // info: one access line per request
  log_format format = log_format::text;         // text, or one JSON object per line
  std::size_t max_body_bytes = 1024 * 1024;     // transport limit on request bodies
  std::size_t max_header_bytes = 16 * 1024;     // transport limit on request headers
  std::int64_t request_timeout_ms = 10'000;     // first byte to last of one request
  std::int64_t idle_timeout_ms = 60'000;        // a kept-alive connection's wait
  std::int64_t max_connections = 512;           // open connections at once
  std::size_t max_db_bytes = 0;                 // database size cap; 0: the disk's
  bool manual_clock = false;                    // a clock that moves only when told (--clock)
  std::optional<std::int64_t> clock_start_ms;   // the manual clock's start; none: now
  std::optional<std::uint64_t> seed;            // seeds every generated id; none: random
  std::int64_t journal_size = 100'000;          // events the journal keeps; 0: none
  std::string config_file;                      // the --config file, if any
  std::vector<storage::account_spec> accounts;  // queues the config file provisions
  std::vector<std::string> notices;             // warnings to log at start-up (deprecations)
};

// A flag or variable that cannot be used; the message names it.
class config_error : public std::runtime_error {
 public:
  explicit config_error(const std::string& what) : std::runtime_error(what) {}
  // key: the option (flag name without dashes) the error is about.
  config_error(std::string key, const std::string& what)
      : std::runtime_error(what), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

struct parsed_config {
  enum class action { run, help, version };
  action what = action::run;
  config settings;
};

// Reads environment variables by name; nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(std::string_view)>;

// Returns the real environment.
env_lookup process_env();

// Parses the arguments (without the program name) and the environment.
// Throws config_error.
parsed_config parse_config(std::span<const std::string> args, const env_lookup& env);

// The text --help prints.
std::string help_text();

// The text --version prints.
std::string version_text();

}  // namespace flareq
