// Leveled log lines on stderr, as text or as one JSON object per line, one
// write per line so lines from the I/O threads never interleave. Safe from
// any thread.
#pragma once

#include <atomic>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flareq {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };
enum class log_format { text, json };

// Parses "debug", "info", "warn" or "error".
std::optional<log_level> parse_log_level(std::string_view text);
// Parses "text" or "json".
std::optional<log_format> parse_log_format(std::string_view text);

// A named value of a log line. JSON lines carry every field; text lines only
// those with in_text, as key=value after the message.
struct log_field {
  std::string key;
  boost::json::value value;
  bool in_text = true;
};

class logger {
 public:
  explicit logger(log_level level = log_level::info, log_format format = log_format::text)
      : level_(level), format_(format) {}
  bool enabled(log_level level) const { return level >= level_.load(); }
  log_format format() const { return format_; }

  // Writes the line when level is enabled, or always with force (the
  // start-up and stop lines). Text: "<time> <LEVEL> <message>[ key=value...]";
  // JSON: {"time":..,"level":..,"msg":<message>,<fields>...}.
  void write(log_level level, std::string_view message, const std::vector<log_field>& fields = {},
             bool force = false) const;

  // Lines that could not be written (stderr closed or full).
  std::uint64_t lost_lines() const { return lost_.load(); }

 private:
  std::atomic<log_level> level_;
  log_format format_;
  mutable std::atomic<std::uint64_t> lost_{0};
};

}  // namespace flareq
