// Queues, queue purge and consumers (see queues.hpp).
#include "server/handlers/queues.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <utility>

#include "server/handlers/common.hpp"
#include "storage/ids.hpp"

namespace flareq::handlers {
namespace json = boost::json;
namespace {

constexpr errc shape = errc::control_body_invalid;
constexpr std::int64_t min_retention = 60;
constexpr std::int64_t max_retention = 1'209'600;
constexpr std::int64_t max_per_page = 1000;
constexpr std::int64_t default_per_page = 100;

std::string account_of(const route_params& p) {
  return std::string(p.get("account_id"));
}
std::string queue_of(const route_params& p) {
  return std::string(p.get("queue_id"));
}
std::string consumer_of(const route_params& p) {
  return std::string(p.get("consumer_id"));
}

// Reads "settings" over base: given fields replace base's.
storage::queue_settings read_settings(const json::object& body, storage::queue_settings base,
                                      std::int64_t max_delay) {
  const json::value* v = body.if_contains("settings");
  if (v == nullptr || v->is_null()) return base;
  const json::object& s = require_object(*v, shape, "settings");
  if (auto d = optional_int(s, "delivery_delay", 0, max_delay, shape)) base.delivery_delay = *d;
  if (auto p = optional_bool(s, "delivery_paused", shape)) base.delivery_paused = *p;
  if (auto r = optional_int(s, "message_retention_period", min_retention, max_retention, shape)) {
    base.message_retention_period = *r;
  }
  return base;
}

std::optional<std::string> read_name(const json::object& body, bool required) {
  auto name = optional_string(body, "queue_name", shape);
  if (!name) {
    if (required) throw api_error(shape, "queue_name is required");
    return std::nullopt;
  }
  if (!is_valid_queue_name(*name)) throw api_error(errc::invalid_queue_name, *name);
  return name;
}

std::int64_t query_int(const http_request& req, std::string_view key, std::int64_t fallback,
                       std::int64_t hi) {
  auto values = query_values(req.target, key);
  if (values.empty() || values.back().empty()) return fallback;
  const std::string& text = values.back();
  std::int64_t n = 0;
  bool ok = text.size() <= 9 && text.find_first_not_of("0123456789") == std::string::npos;
  if (ok) n = std::stoll(text);
  if (!ok || n < 1 || n > hi) {
    throw api_error(shape,
                    std::string(key) + " must be a whole number from 1 to " + std::to_string(hi));
  }
  return n;
}

storage::consumer_input read_consumer(const json::value& v, std::int64_t max_delay) {
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
  if (auto dlq = optional_string(body, "dead_letter_queue", shape)) {
    if (!dlq->empty() && !is_valid_queue_name(*dlq)) {
      throw api_error(shape, "dead_letter_queue must be a valid queue name");
    }
    in.dead_letter_queue = *dlq;
  }
  if (const json::value* s = body.if_contains("settings"); s != nullptr && !s->is_null()) {
    const json::object& set = require_object(*s, shape, "settings");
    auto& out = in.settings;
    out.batch_size = optional_int(set, "batch_size", 1, 100, shape);
    out.max_retries = optional_int(set, "max_retries", 0, 100, shape);
    out.retry_delay = optional_int(set, "retry_delay", 0, max_delay, shape);
    if (in.type == storage::consumer_type::worker) {
      out.max_concurrency = optional_int(set, "max_concurrency", 1, 250, shape);
      out.max_wait_time_ms = optional_int(set, "max_wait_time_ms", 0, 60'000, shape);
    } else {
      out.visibility_timeout_ms = optional_int(set, "visibility_timeout_ms", 1, 43'200'000, shape);
    }
  }
  return in;
}

}  // namespace

boost::asio::awaitable<handler_result> list_queues(handler_context& ctx, const http_request& req,
                                                   const route_params& params) {
  std::int64_t page = query_int(req, "page", 1, 1'000'000);
  std::int64_t per_page = query_int(req, "per_page", default_per_page, max_per_page);
  std::vector<std::string> names = query_values(req.target, "name");
  std::erase(names, std::string());
  auto op = [account = account_of(params), names = std::move(names), page,
             per_page](storage::queue_store& store) {
    return store.list_queues(account, names, page, per_page);
  };
  storage::queue_page found =
      co_await run_store<storage::queue_page>(ctx, plane::control, std::move(op));
  json::array queues;
  for (const auto& q : found.queues) queues.push_back(queue_json(q));
  handler_result out(queues);
  out.result_info = json::value{{"page", page},
                                {"per_page", per_page},
                                {"count", found.queues.size()},
                                {"total_count", found.total_count},
                                {"total_pages", (found.total_count + per_page - 1) / per_page}};
  co_return out;
}

boost::asio::awaitable<handler_result> create_queue(handler_context& ctx, const http_request& req,
                                                    const route_params& params) {
  json::value body = parse_json_body(req.body);
  const json::object& obj = require_object(body, shape, "the request body");
  std::string name = *read_name(obj, true);
  storage::queue_settings settings = read_settings(obj, {}, ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), name = std::move(name),
             settings](storage::queue_store& store) {
    return store.create_queue(account, name, settings);
  };
  co_return queue_json(
      co_await run_store<storage::queue_record>(ctx, plane::control, std::move(op)));
}

boost::asio::awaitable<handler_result> get_queue(handler_context& ctx, const http_request&,
                                                 const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params)](storage::queue_store& store) {
    return store.get_queue(account, queue);
  };
  co_return queue_json(
      co_await run_store<storage::queue_record>(ctx, plane::control, std::move(op)));
}

namespace {

// PUT and PATCH: the same body; PUT starts from the defaults, PATCH from
// the queue's settings, in the same transaction as the update.
boost::asio::awaitable<handler_result> update_queue(handler_context& ctx, const http_request& req,
                                                    const route_params& params, bool merge) {
  json::value body = parse_json_body(req.body, true);
  const json::object& obj = require_object(body, shape, "the request body");
  std::optional<std::string> name = read_name(obj, false);
  // Validated here against the defaults; applied to the stored settings below.
  read_settings(obj, {}, ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), queue = queue_of(params), name = std::move(name),
             body = std::move(body), merge,
             max_delay = ctx.settings.max_delay_seconds](storage::queue_store& store) {
    storage::queue_settings base;
    if (merge) base = store.get_queue(account, queue).settings;
    return store.update_queue(account, queue, name,
                              read_settings(body.as_object(), base, max_delay));
  };
  co_return queue_json(
      co_await run_store<storage::queue_record>(ctx, plane::control, std::move(op)));
}

}  // namespace

boost::asio::awaitable<handler_result> replace_queue(handler_context& ctx, const http_request& req,
                                                     const route_params& params) {
  return update_queue(ctx, req, params, false);
}

boost::asio::awaitable<handler_result> edit_queue(handler_context& ctx, const http_request& req,
                                                  const route_params& params) {
  return update_queue(ctx, req, params, true);
}

boost::asio::awaitable<handler_result> delete_queue(handler_context& ctx, const http_request&,
                                                    const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params)](storage::queue_store& store) {
    store.delete_queue(account, queue);
    return true;
  };
  co_await run_store<bool>(ctx, plane::control, std::move(op));
  co_return handler_result();
}

boost::asio::awaitable<handler_result> start_purge(handler_context& ctx, const http_request& req,
                                                   const route_params& params) {
  json::value body = parse_json_body(req.body, true);
  const json::object& obj = require_object(body, shape, "the request body");
  if (optional_bool(obj, "delete_messages_permanently", shape) != true) {
    throw api_error(shape, "delete_messages_permanently must be true to purge");
  }
  auto op = [account = account_of(params), queue = queue_of(params)](storage::queue_store& store) {
    return store.purge_queue(account, queue);
  };
  co_return queue_json(
      co_await run_store<storage::queue_record>(ctx, plane::control, std::move(op)));
}

boost::asio::awaitable<handler_result> purge_status(handler_context& ctx, const http_request&,
                                                    const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params)](storage::queue_store& store) {
    return store.purge_started_us(account, queue);
  };
  auto started =
      co_await run_store<std::optional<std::int64_t>>(ctx, plane::control, std::move(op));
  // A purge completes within its own transaction: once started, it is complete.
  co_return json::value{
      {"started_at", started ? json::value(storage::format_rfc3339_us(*started)) : nullptr},
      {"completed", started ? "true" : "false"},
      {"complete", started.has_value()}};
}

boost::asio::awaitable<handler_result> list_consumers(handler_context& ctx, const http_request&,
                                                      const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params)](storage::queue_store& store) {
    return store.list_consumers(account, queue);
  };
  auto found =
      co_await run_store<std::vector<storage::consumer_record>>(ctx, plane::control, std::move(op));
  json::array out;
  for (const auto& c : found) out.push_back(consumer_json(c, false));
  handler_result result(out);
  result.result_info = json::value{{"page", 1},
                                   {"per_page", default_per_page},
                                   {"count", found.size()},
                                   {"total_count", found.size()},
                                   {"total_pages", 1}};
  co_return result;
}

boost::asio::awaitable<handler_result> create_consumer(handler_context& ctx,
                                                       const http_request& req,
                                                       const route_params& params) {
  storage::consumer_input in =
      read_consumer(parse_json_body(req.body), ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), queue = queue_of(params), in = std::move(in)](
                storage::queue_store& store) { return store.create_consumer(account, queue, in); };
  co_return consumer_json(
      co_await run_store<storage::consumer_record>(ctx, plane::control, std::move(op)), false);
}

boost::asio::awaitable<handler_result> get_consumer(handler_context& ctx, const http_request&,
                                                    const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params),
             consumer = consumer_of(params)](storage::queue_store& store) {
    return store.get_consumer(account, queue, consumer);
  };
  co_return consumer_json(
      co_await run_store<storage::consumer_record>(ctx, plane::control, std::move(op)), false);
}

boost::asio::awaitable<handler_result> put_consumer(handler_context& ctx, const http_request& req,
                                                    const route_params& params) {
  storage::consumer_input in =
      read_consumer(parse_json_body(req.body), ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), queue = queue_of(params), consumer = consumer_of(params),
             in = std::move(in)](storage::queue_store& store) {
    return store.put_consumer(account, queue, consumer, in);
  };
  co_return consumer_json(
      co_await run_store<storage::consumer_record>(ctx, plane::control, std::move(op)), false);
}

boost::asio::awaitable<handler_result> delete_consumer(handler_context& ctx, const http_request&,
                                                       const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params),
             consumer = consumer_of(params)](storage::queue_store& store) {
    store.delete_consumer(account, queue, consumer);
    return true;
  };
  co_await run_store<bool>(ctx, plane::control, std::move(op));
  co_return handler_result();
}

}  // namespace flareq::handlers
