// Shared handler helpers (see common.hpp).
#include "server/handlers/common.hpp"

#include <cmath>

#include "server/js_json.hpp"
#include "storage/ids.hpp"

namespace flareq::handlers {
namespace json = boost::json;
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

constexpr errc shape = errc::control_body_invalid;
constexpr std::int64_t min_retention = 60;
constexpr std::int64_t max_retention = 1'209'600;

}  // namespace

storage::queue_settings read_queue_settings(const json::object& body, storage::queue_settings base,
                                            std::int64_t max_delay) {
  const json::value* v = body.if_contains("settings");
  if (v == nullptr || v->is_null()) return base;
  constexpr errc bad = errc::queue_settings_invalid;
  const json::object& s = require_object(*v, bad, "settings");
  if (auto d = optional_int(s, "delivery_delay", 0, max_delay, bad)) base.delivery_delay = *d;
  if (auto p = optional_bool(s, "delivery_paused", bad)) base.delivery_paused = *p;
  if (auto r = optional_int(s, "message_retention_period", min_retention, max_retention, bad)) {
    base.message_retention_period = *r;
  }
  return base;
}

storage::consumer_input read_consumer_input(const json::value& v, std::int64_t max_delay) {
  const json::object& body = require_object(v, shape, "the request body");
  storage::consumer_input in;
  auto type = optional_string(body, "type", shape);
  if (!type) throw api_error(shape, "type is required (\"worker\" or \"http_pull\")");
  if (*type == "worker") {
    in.type = storage::consumer_type::worker;
  } else if (*type == "http_pull") {
    in.type = storage::consumer_type::http_pull;
  } else {
    throw api_error(shape, "type must be \"worker\" or \"http_pull\"");
  }
  if (in.type == storage::consumer_type::worker) {
    auto script = optional_string(body, "script_name", shape);
    if (!script) script = optional_string(body, "script", shape);
    if (!script || script->empty()) throw api_error(shape, "script_name is required for a worker");
    in.script_name = *script;
  }
  constexpr errc bad = errc::consumer_settings_invalid;
  if (auto dlq = optional_string(body, "dead_letter_queue", bad)) {
    if (!dlq->empty() && !is_valid_queue_name(*dlq)) {
      throw api_error(bad, "dead_letter_queue must be a valid queue name");
    }
    in.dead_letter_queue = *dlq;
  }
  if (const json::value* s = body.if_contains("settings"); s != nullptr && !s->is_null()) {
    const json::object& set = require_object(*s, bad, "settings");
    auto& out = in.settings;
    out.batch_size = optional_int(set, "batch_size", 1, 100, bad);
    out.max_retries = optional_int(set, "max_retries", 0, 100, bad);
    out.retry_delay = optional_int(set, "retry_delay", 0, max_delay, bad);
    if (in.type == storage::consumer_type::worker) {
      out.max_concurrency = optional_int(set, "max_concurrency", 1, 250, bad);
      out.max_wait_time_ms = optional_int(set, "max_wait_time_ms", 0, 60'000, bad);
    } else {
      out.visibility_timeout_ms = optional_int(set, "visibility_timeout_ms", 1, 43'200'000, bad);
    }
  }
  return in;
}

namespace {

// Tells whether every number in v is finite (1e400 parses as infinity).
bool all_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (const json::value& item : v.get_array()) {
        if (!all_finite(item)) return false;
      }
      return true;
    case json::kind::object:
      for (const auto& item : v.get_object()) {
        if (!all_finite(item.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

json::value parse_json_body(std::string_view body, bool empty_is_object) {
  if (empty_is_object && body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return json::object();
  }
  boost::system::error_code ec;
  json::value v = js_parse(body, ec);
  if (ec) throw api_error(errc::body_not_json, ec.message());
  // Depth is bounded by max_json_depth, so the walk's recursion is too.
  if (!all_finite(v)) throw api_error(errc::body_not_json, "a number is out of range");
  return v;
}

const json::object& require_object(const json::value& v, errc shape, std::string_view what) {
  const json::object* o = v.if_object();
  if (o == nullptr) throw api_error(shape, std::string(what) + " must be a JSON object");
  return *o;
}

std::optional<std::int64_t> optional_int(const json::object& o, std::string_view name,
                                         std::int64_t lo, std::int64_t hi, errc bad) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  auto fail = [&]() {
    throw api_error(bad, std::string(name) + " must be a whole number from " + std::to_string(lo) +
                             " to " + std::to_string(hi));
  };
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_double()) {
    double d = v->get_double();
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || std::floor(d) != d) {
      fail();
    }
    n = static_cast<std::int64_t>(d);
  } else {
    fail();
  }
  if (n < lo || n > hi) fail();
  return n;
}

std::optional<bool> optional_bool(const json::object& o, std::string_view name, errc bad) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_bool()) throw api_error(bad, std::string(name) + " must be true or false");
  return v->get_bool();
}

std::optional<std::string> optional_string(const json::object& o, std::string_view name, errc bad) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) throw api_error(bad, std::string(name) + " must be a string");
  return std::string(v->get_string());
}

void rethrow_store_error(const storage::store_error& e, plane p) {
  using storage::store_errc;
  switch (e.code()) {
    case store_errc::queue_not_found:
      if (p == plane::control) throw api_error(errc::queue_not_found);
      // Pushing by queue name, or to a queue never created, is the usual cause.
      throw api_error(errc::queue_does_not_exist,
                      std::string(e.what()) +
                          " (the URL takes a queue's id, not its name). Create the queue "
                          "(POST /accounts/{account_id}/queues, or wrangler queues create) and "
                          "use the queue_id it returns, declare it at start-up (--queue "
                          "NAME=ID, or the config file), or run flareq with --lenient to create "
                          "queues on their first push");
    case store_errc::queue_name_taken:
      throw api_error(errc::queue_name_taken, e.what());
    case store_errc::consumer_not_found:
      throw api_error(errc::consumer_not_found);
    case store_errc::consumer_exists:
      throw api_error(errc::consumer_exists, e.what());
    case store_errc::delivery_paused:
      throw api_error(errc::delivery_paused);
    case store_errc::id_not_a_name:
      throw api_error(errc::queue_does_not_exist, e.what());
    case store_errc::subscription_not_found:
      throw api_error(errc::subscription_not_found, e.what());
    case store_errc::destination_not_found:
      throw api_error(errc::queue_not_found, e.what());
    case store_errc::dead_letter_loop:
      throw api_error(errc::consumer_settings_invalid, e.what());
    case store_errc::no_pull_consumer:
      throw api_error(errc::method_not_allowed,
                      "pull needs an http_pull consumer on the queue, as on Cloudflare: add one "
                      "(POST .../queues/{queue_id}/consumers {\"type\": \"http_pull\"}, or "
                      "wrangler queues consumer http add), or run flareq with --lenient");
  }
  throw api_error(errc::internal, e.what());
}

json::value consumer_json(const storage::consumer_record& c, bool embedded) {
  const auto& s = c.input.settings;
  json::object settings;
  bool worker = c.input.type == storage::consumer_type::worker;
  settings["batch_size"] = s.batch_size.value_or(worker ? 10 : 5);
  if (worker) {
    settings["max_concurrency"] =
        s.max_concurrency ? json::value(*s.max_concurrency) : json::value(nullptr);
  }
  settings["max_retries"] = s.max_retries.value_or(storage::default_max_retries);
  if (worker) settings["max_wait_time_ms"] = s.max_wait_time_ms.value_or(5000);
  settings["retry_delay"] = s.retry_delay.value_or(0);
  if (!worker) {
    settings["visibility_timeout_ms"] =
        s.visibility_timeout_ms.value_or(storage::default_visibility_timeout_ms);
  }
  json::object o;
  o["consumer_id"] = c.consumer_id;
  o["created_on"] = storage::format_rfc3339_us(c.created_us);
  o["dead_letter_queue"] = c.input.dead_letter_queue;
  o["queue_id"] = c.queue_id;
  o["queue_name"] = c.queue_name;
  o["type"] = storage::to_string(c.input.type);
  if (worker) {
    o["script_name"] = c.input.script_name;
    if (embedded) o["script"] = c.input.script_name;
  }
  o["settings"] = std::move(settings);
  return o;
}

json::value queue_json(const storage::queue_record& q) {
  json::array consumers;
  if (q.consumer) consumers.push_back(consumer_json(*q.consumer, true));
  json::object o;
  o["queue_id"] = q.queue_id;
  o["queue_name"] = q.queue_name;
  o["created_on"] = storage::format_rfc3339_us(q.created_us);
  o["modified_on"] = storage::format_rfc3339_us(q.modified_us);
  o["producers_total_count"] = 0;
  o["producers"] = json::array();
  o["consumers_total_count"] = consumers.size();
  o["consumers"] = std::move(consumers);
  o["settings"] = {{"delivery_delay", q.settings.delivery_delay},
                   {"delivery_paused", q.settings.delivery_paused},
                   {"message_retention_period", q.settings.message_retention_period}};
  return o;
}

json::value metrics_json(const storage::queue_metrics& m) {
  return {{"backlog_bytes", m.backlog_bytes},
          {"backlog_count", m.backlog_count},
          {"oldest_message_timestamp_ms", m.oldest_message_timestamp_ms}};
}

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

json::value page_info(std::int64_t page, std::int64_t per_page, std::size_t count,
                      std::int64_t total_count) {
  return {{"page", page},
          {"per_page", per_page},
          {"count", count},
          {"total_count", total_count},
          {"total_pages", (total_count + per_page - 1) / per_page}};
}

std::string base64_encode(std::string_view data) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    auto a = static_cast<unsigned char>(data[i]);
    auto b = static_cast<unsigned char>(data[i + 1]);
    auto c = static_cast<unsigned char>(data[i + 2]);
    out += alphabet[a >> 2];
    out += alphabet[((a & 3) << 4) | (b >> 4)];
    out += alphabet[((b & 15) << 2) | (c >> 6)];
    out += alphabet[c & 63];
  }
  if (i < data.size()) {
    auto a = static_cast<unsigned char>(data[i]);
    out += alphabet[a >> 2];
    if (i + 1 < data.size()) {
      auto b = static_cast<unsigned char>(data[i + 1]);
      out += alphabet[((a & 3) << 4) | (b >> 4)];
      out += alphabet[(b & 15) << 2];
    } else {
      out += alphabet[(a & 3) << 4];
      out += '=';
    }
    out += '=';
  }
  return out;
}

}  // namespace flareq::handlers
