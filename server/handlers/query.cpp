// Query strings (see query.hpp).
#include "server/handlers/query.hpp"

#include "server/api_error.hpp"

namespace flareq::handlers {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> query_values(std::string_view target, std::string_view key) {
  std::vector<std::string> out;
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == key) {
      out.push_back(eq == std::string_view::npos ? std::string()
                                                 : percent_decode(pair.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

std::int64_t query_whole_number(std::string_view target, std::string_view key,
                                std::int64_t fallback, std::int64_t hi) {
  auto values = query_values(target, key);
  if (values.empty() || values.back().empty()) return fallback;
  const std::string& text = values.back();
  std::int64_t n = 0;
  bool ok = text.size() <= 9 && text.find_first_not_of("0123456789") == std::string::npos;
  if (ok) n = std::stoll(text);
  if (!ok || n < 1 || n > hi) {
    throw api_error(errc::query_invalid,
                    std::string(key) + " must be a whole number from 1 to " + std::to_string(hi));
  }
  return n;
}

}  // namespace flareq::handlers
