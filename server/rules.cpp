// The body rules (see rules.hpp).
#include "server/rules.hpp"

#include <cmath>

#include "server/js_json.hpp"

namespace flareq {
namespace json = boost::json;
namespace {

constexpr errc shape = errc::control_body_invalid;

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

const json::object& require_object(const json::value& v, errc bad, std::string_view what) {
  const json::object* o = v.if_object();
  if (o == nullptr) throw api_error(bad, std::string(what) + " must be a JSON object");
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

queue_settings_patch read_queue_settings_patch(const json::object& body, std::int64_t max_delay) {
  queue_settings_patch patch;
  const json::value* v = body.if_contains("settings");
  if (v == nullptr || v->is_null()) return patch;
  constexpr errc bad = errc::queue_settings_invalid;
  const json::object& s = require_object(*v, bad, "settings");
  patch.delivery_delay = optional_int(s, "delivery_delay", 0, max_delay, bad);
  patch.delivery_paused = optional_bool(s, "delivery_paused", bad);
  patch.message_retention_period = optional_int(s, "message_retention_period",
                                                limits::min_retention, limits::max_retention, bad);
  return patch;
}

storage::queue_settings queue_settings_patch::over(storage::queue_settings base) const {
  if (delivery_delay) base.delivery_delay = *delivery_delay;
  if (delivery_paused) base.delivery_paused = *delivery_paused;
  if (message_retention_period) base.message_retention_period = *message_retention_period;
  return base;
}

storage::queue_settings read_queue_settings(const json::object& body, storage::queue_settings base,
                                            std::int64_t max_delay) {
  return read_queue_settings_patch(body, max_delay).over(base);
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
    out.batch_size = optional_int(set, "batch_size", 1, limits::max_consumer_batch, bad);
    out.max_retries = optional_int(set, "max_retries", 0, limits::max_consumer_retries, bad);
    out.retry_delay = optional_int(set, "retry_delay", 0, max_delay, bad);
    if (in.type == storage::consumer_type::worker) {
      out.max_concurrency = optional_int(set, "max_concurrency", 1, limits::max_concurrency, bad);
      out.max_wait_time_ms =
          optional_int(set, "max_wait_time_ms", 0, limits::max_wait_time_ms, bad);
    } else {
      out.visibility_timeout_ms =
          optional_int(set, "visibility_timeout_ms", 1, limits::max_visibility_timeout_ms, bad);
    }
  }
  return in;
}

}  // namespace flareq
