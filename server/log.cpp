// Log lines on stderr (see log.hpp).
#include "server/log.hpp"

#include <unistd.h>

#include <string>

#include "storage/clock.hpp"
#include "storage/ids.hpp"

namespace flareq {

std::optional<log_level> parse_log_level(std::string_view text) {
  if (text == "debug") return log_level::debug;
  if (text == "info") return log_level::info;
  if (text == "warn") return log_level::warn;
  if (text == "error") return log_level::error;
  return std::nullopt;
}

void logger::write(log_level level, std::string_view line, bool force) const {
  if (!force && !enabled(level)) return;
  static constexpr std::string_view names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  std::string out = storage::format_rfc3339_us(storage::system_clock().now_us());
  out += ' ';
  out += names[static_cast<int>(level)];
  out += ' ';
  out += line;
  out += '\n';
  // One write(2) per line: atomic with respect to other lines.
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace flareq
