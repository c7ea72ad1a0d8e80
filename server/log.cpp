// Log lines on stderr (see log.hpp).
#include "server/log.hpp"

#include <unistd.h>

#include <cerrno>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "server/utf8.hpp"
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

std::optional<log_format> parse_log_format(std::string_view text) {
  if (text == "text") return log_format::text;
  if (text == "json") return log_format::json;
  return std::nullopt;
}

void logger::write(log_level level, std::string_view message, const std::vector<log_field>& fields,
                   bool force) const {
  if (!force && !enabled(level)) return;
  static constexpr std::string_view upper[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  static constexpr std::string_view lower[] = {"debug", "info", "warn", "error"};
  std::string time = storage::format_rfc3339_us(storage::system_clock().now_us());
  // Messages and fields may quote request bytes: keep every line valid UTF-8.
  std::string text = valid_utf8(message);
  auto clean = [](const boost::json::value& v) {
    return v.is_string() ? boost::json::value(valid_utf8(v.get_string())) : v;
  };
  std::string out;
  if (format_ == log_format::json) {
    boost::json::object line;
    line["time"] = time;
    line["level"] = lower[static_cast<int>(level)];
    line["msg"] = text;
    for (const log_field& f : fields) line[f.key] = clean(f.value);
    out = boost::json::serialize(line);
  } else {
    out = time;
    out += ' ';
    out += upper[static_cast<int>(level)];
    out += ' ';
    out += text;
    for (const log_field& f : fields) {
      if (!f.in_text) continue;
      out += ' ';
      out += f.key;
      out += '=';
      boost::json::value v = clean(f.value);
      out += v.is_string() ? boost::json::serialize(v.get_string()) : boost::json::serialize(v);
    }
  }
  out += '\n';
  // One write(2) per line: atomic with respect to other lines. A reader
  // that went away (EPIPE: SIGPIPE is ignored, see main) or a full disk
  // loses the line, which is counted, never fatal.
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      lost_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace flareq
