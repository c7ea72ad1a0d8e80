// Push (see messages.hpp).
#include "server/handlers/messages.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <string>
#include <utility>

#include "server/api_error.hpp"
#include "server/storage_call.hpp"

namespace flareq::handlers {
namespace json = boost::json;
namespace {

// Deeper JSON is rejected as invalid rather than risk the stack.
constexpr int max_json_depth = 128;

std::optional<std::int64_t> parse_delay(const json::value* v, std::int64_t max) {
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::string bad = "delay_seconds must be a whole number from 0 to " + std::to_string(max);
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_double()) {
    double d = v->get_double();
    if (!(d >= 0 && d <= static_cast<double>(max)) || std::floor(d) != d) {
      throw api_error(errc::message_metadata_invalid, bad);
    }
    n = static_cast<std::int64_t>(d);
  } else {
    throw api_error(errc::message_metadata_invalid, bad);
  }
  if (n < 0 || n > max) throw api_error(errc::message_metadata_invalid, bad);
  return n;
}

// Rethrows a storage outcome as the message plane's error.
[[noreturn]] void rethrow_store_error(const storage::store_error& e) {
  switch (e.code()) {
    case storage::store_errc::queue_not_found:
      throw api_error(errc::queue_does_not_exist);
    case storage::store_errc::queue_name_taken:
      throw api_error(errc::queue_name_taken, e.what());
  }
  throw api_error(errc::internal, e.what());
}

}  // namespace

json::value parse_json_body(std::string_view body) {
  json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, options);
  if (ec) throw api_error(errc::body_not_json, ec.message());
  return v;
}

storage::new_message parse_message(const json::value& message, std::int64_t max_delay_seconds) {
  const json::object* obj = message.if_object();
  if (obj == nullptr) throw api_error(errc::body_invalid, "a message must be a JSON object");
  storage::new_message out;
  if (const json::value* type = obj->if_contains("content_type"); type && !type->is_null()) {
    const json::string* s = type->if_string();
    if (s != nullptr && *s == "text") {
      out.type = storage::content_type::text;
    } else if (s != nullptr && *s == "json") {
      out.type = storage::content_type::json;
    } else {
      throw api_error(errc::message_metadata_invalid, "content_type must be \"text\" or \"json\"");
    }
  }
  out.delay_seconds = parse_delay(obj->if_contains("delay_seconds"), max_delay_seconds);
  const json::value* body = obj->if_contains("body");
  if (body == nullptr) throw api_error(errc::body_invalid, "body is required");
  if (out.type == storage::content_type::text) {
    const json::string* s = body->if_string();
    if (s == nullptr) {
      throw api_error(errc::body_invalid, "body must be a string when content_type is \"text\"");
    }
    out.body.assign(s->data(), s->size());
  } else {
    out.body = json::serialize(*body);
  }
  if (storage::message_size(out.body) > max_message_bytes) {
    throw api_error(errc::message_too_large,
                    "the body is " + std::to_string(out.body.size()) + " bytes");
  }
  return out;
}

json::value metrics_result(const storage::queue_metrics& m) {
  return {{"metadata",
           {{"metrics",
             {{"backlog_bytes", m.backlog_bytes},
              {"backlog_count", m.backlog_count},
              {"oldest_message_timestamp_ms", m.oldest_message_timestamp_ms}}}}}};
}

boost::asio::awaitable<json::value> push_message(handler_context& ctx, const http_request& req,
                                                 const route_params& params) {
  storage::new_message message =
      parse_message(parse_json_body(req.body), ctx.settings.max_delay_seconds);
  std::string account(params.get("account_id"));
  std::string queue(params.get("queue_id"));
  // A named operation, not a temporary inside co_await: GCC 12 destroys
  // such temporaries twice.
  auto push = [account, queue, message = std::move(message)](storage::queue_store& store) {
    return store.push(account, queue, std::span(&message, 1));
  };
  storage::queue_metrics metrics;
  try {
    metrics = co_await call_storage<storage::queue_metrics>(ctx.writer, std::move(push));
  } catch (const storage::store_error& e) {
    rethrow_store_error(e);
  }
  co_return metrics_result(metrics);
}

}  // namespace flareq::handlers
