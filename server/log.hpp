// Leveled log lines on stderr, one write per line so lines from the I/O
// threads never interleave. Safe from any thread.
#pragma once

#include <atomic>
#include <optional>
#include <string_view>

namespace flareq {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

// Parses "debug", "info", "warn" or "error".
std::optional<log_level> parse_log_level(std::string_view text);

class logger {
 public:
  explicit logger(log_level level = log_level::info) : level_(level) {}
  bool enabled(log_level level) const { return level >= level_.load(); }
  void set_level(log_level level) { level_.store(level); }
  // Writes "<time> <level> <line>\n" to stderr when level is enabled, or
  // always with force (the start-up and stop lines).
  void write(log_level level, std::string_view line, bool force = false) const;

 private:
  std::atomic<log_level> level_;
};

}  // namespace flareq
