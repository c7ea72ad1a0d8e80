// Event subscriptions (see subscriptions.hpp). The body is checked here; the
// source and events go to storage as compact JSON.
#include "server/handlers/subscriptions.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <utility>
#include <vector>

#include "server/handlers/common.hpp"
#include "storage/ids.hpp"

namespace flareq::handlers {
namespace json = boost::json;
namespace {

constexpr errc shape = errc::control_body_invalid;

// The source types of the SDK and of wrangler, each with the fields that
// name its resource (all required when the type has any).
struct source_kind {
  std::string_view type;
  std::vector<std::string_view> fields;
};

const std::vector<source_kind>& source_kinds() {
  static const std::vector<source_kind> kinds = {
      {"images", {}},
      {"kv", {}},
      {"r2", {}},
      {"superSlurper", {}},
      {"vectorize", {}},
      {"workersAi.model", {"model_name"}},
      {"workersBuilds.worker", {"worker_name"}},
      {"workers.script", {}},
      {"workflows.workflow", {"workflow_name"}},
      {"artifacts", {}},
      {"artifacts.repo", {"namespace", "repo_name"}},
      {"browserRun", {}},
      {"email.sending", {"zone_id", "domain"}},
  };
  return kinds;
}

// Reads source: {"type", its resource fields}; keeps only those (and
// workers.script's optional script_tag).
std::string read_source(const json::object& body) {
  const json::value* v = body.if_contains("source");
  if (v == nullptr || v->is_null()) throw api_error(shape, "source is required");
  const json::object& source = require_object(*v, shape, "source");
  auto type = optional_string(source, "type", shape);
  if (!type) throw api_error(shape, "source.type is required");
  const source_kind* kind = nullptr;
  for (const source_kind& k : source_kinds()) {
    if (k.type == *type) kind = &k;
  }
  if (kind == nullptr) {
    std::string known;
    for (const source_kind& k : source_kinds())
      known += (known.empty() ? "" : ", ") + std::string(k.type);
    throw api_error(shape, "source.type " + *type + " is not one of " + known);
  }
  json::object out;
  out["type"] = *type;
  std::vector<std::string_view> fields = kind->fields;
  if (*type == "workers.script") fields.push_back("script_tag");
  for (std::string_view field : fields) {
    auto value = optional_string(source, field, shape);
    bool optional = field == "script_tag";
    if (!value || value->empty()) {
      if (optional) continue;
      throw api_error(shape,
                      "source." + std::string(field) + " is required for source type " + *type);
    }
    out[field] = *value;
  }
  return json::serialize(out);
}

// Reads destination: {"type": "queues.queue", "queue_id"}; returns the queue id.
std::string read_destination(const json::value& v) {
  const json::object& d = require_object(v, shape, "destination");
  if (optional_string(d, "type", shape) != "queues.queue") {
    throw api_error(shape, "destination.type must be \"queues.queue\"");
  }
  auto queue = optional_string(d, "queue_id", shape);
  if (!queue || !is_valid_identifier(*queue)) {
    throw api_error(shape,
                    "destination.queue_id must be a queue id (1 to 32 characters of "
                    "[A-Za-z0-9_-])");
  }
  return *queue;
}

// Reads events: a non-empty list of non-empty strings.
std::string read_events(const json::value& v) {
  const json::array* events = v.if_array();
  if (events == nullptr || events->empty()) {
    throw api_error(shape, "events must be a non-empty list of event names");
  }
  for (const json::value& e : *events) {
    if (!e.is_string() || e.get_string().empty()) {
      throw api_error(shape, "each of events must be a non-empty string");
    }
  }
  return json::serialize(*events);
}

std::string read_name(const json::object& body, bool required) {
  auto name = optional_string(body, "name", shape);
  if (!name) {
    if (required) throw api_error(shape, "name is required");
    return {};
  }
  if (name->empty() || name->size() > limits::max_subscription_name_bytes) {
    throw api_error(shape, "name must be 1 to 255 bytes");
  }
  return *name;
}

json::value subscription_json(const storage::subscription_record& s) {
  json::object o;
  o["id"] = s.subscription_id;
  o["created_at"] = storage::format_rfc3339_us(s.created_us);
  o["modified_at"] = storage::format_rfc3339_us(s.modified_us);
  o["name"] = s.input.name;
  o["enabled"] = s.input.enabled;
  o["source"] = json::parse(s.input.source_json);
  o["destination"] = {{"type", "queues.queue"}, {"queue_id", s.input.queue_id}};
  o["events"] = json::parse(s.input.events_json);
  return o;
}

storage::subscription_order read_order(std::string_view target) {
  auto values = query_values(target, "order");
  if (values.empty() || values.back().empty() || values.back() == "created_at") {
    return storage::subscription_order::created_at;
  }
  if (values.back() == "name") return storage::subscription_order::name;
  if (values.back() == "enabled") return storage::subscription_order::enabled;
  if (values.back() == "source") return storage::subscription_order::source;
  throw api_error(errc::query_invalid, "order must be created_at, name, enabled or source");
}

bool read_descending(std::string_view target) {
  auto values = query_values(target, "direction");
  if (values.empty() || values.back().empty() || values.back() == "asc") return false;
  if (values.back() == "desc") return true;
  throw api_error(errc::query_invalid, "direction must be asc or desc");
}

}  // namespace

boost::asio::awaitable<handler_result> list_subscriptions(handler_context& ctx,
                                                          const http_request& req,
                                                          const route_params& params) {
  storage::subscription_query query;
  query.page = query_whole_number(req.target, "page", 1, limits::max_page);
  query.per_page = query_whole_number(req.target, "per_page", limits::subscriptions_per_page,
                                      limits::max_per_page);
  query.order = read_order(req.target);
  query.descending = read_descending(req.target);
  // wrangler lists a queue's subscriptions with ?queue_id=.
  auto queue = query_values(req.target, "queue_id");
  if (!queue.empty() && !queue.back().empty()) {
    if (!is_valid_identifier(queue.back())) {
      throw api_error(errc::query_invalid, "queue_id must be 1 to 32 characters of [A-Za-z0-9_-]");
    }
    query.queue_id = queue.back();
  }
  auto op = [account = account_of(params), query](storage::queue_store& store) {
    return store.list_subscriptions(account, query);
  };
  auto found = co_await run_store<storage::subscription_page>(ctx, plane::control, op);
  json::array out;
  for (const auto& s : found.subscriptions) out.push_back(subscription_json(s));
  handler_result result(std::move(out));
  result.result_info =
      page_info(query.page, query.per_page, found.subscriptions.size(), found.total_count);
  co_return result;
}

boost::asio::awaitable<handler_result> create_subscription(handler_context& ctx,
                                                           const http_request& req,
                                                           const route_params& params) {
  json::value body = parse_json_body(req.body);
  const json::object& obj = require_object(body, shape, "the request body");
  storage::subscription_input in;
  in.name = read_name(obj, true);
  in.enabled = optional_bool(obj, "enabled", shape).value_or(true);
  in.source_json = read_source(obj);
  const json::value* destination = obj.if_contains("destination");
  if (destination == nullptr || destination->is_null()) {
    throw api_error(shape, "destination is required");
  }
  in.queue_id = read_destination(*destination);
  const json::value* events = obj.if_contains("events");
  if (events == nullptr || events->is_null()) throw api_error(shape, "events is required");
  in.events_json = read_events(*events);
  auto op = [account = account_of(params), in = std::move(in)](storage::queue_store& store) {
    return store.create_subscription(account, in);
  };
  co_return subscription_json(
      co_await run_store<storage::subscription_record>(ctx, plane::control, op));
}

boost::asio::awaitable<handler_result> get_subscription(handler_context& ctx, const http_request&,
                                                        const route_params& params) {
  auto op = [account = account_of(params), id = subscription_of(params)](
                storage::queue_store& store) { return store.get_subscription(account, id); };
  co_return subscription_json(
      co_await run_store<storage::subscription_record>(ctx, plane::control, op));
}

boost::asio::awaitable<handler_result> edit_subscription(handler_context& ctx,
                                                         const http_request& req,
                                                         const route_params& params) {
  json::value body = parse_json_body(req.body, true);
  const json::object& obj = require_object(body, shape, "the request body");
  if (const json::value* source = obj.if_contains("source"); source && !source->is_null()) {
    throw api_error(shape, "source cannot change: create a new subscription instead");
  }
  storage::subscription_patch patch;
  if (obj.contains("name") && !obj.at("name").is_null()) patch.name = read_name(obj, true);
  patch.enabled = optional_bool(obj, "enabled", shape);
  if (const json::value* e = obj.if_contains("events"); e && !e->is_null()) {
    patch.events_json = read_events(*e);
  }
  if (const json::value* d = obj.if_contains("destination"); d && !d->is_null()) {
    patch.queue_id = read_destination(*d);
  }
  auto op = [account = account_of(params), id = subscription_of(params),
             patch = std::move(patch)](storage::queue_store& store) {
    return store.update_subscription(account, id, patch);
  };
  co_return subscription_json(
      co_await run_store<storage::subscription_record>(ctx, plane::control, op));
}

boost::asio::awaitable<handler_result> delete_subscription(handler_context& ctx,
                                                           const http_request&,
                                                           const route_params& params) {
  auto op = [account = account_of(params), id = subscription_of(params)](
                storage::queue_store& store) { return store.delete_subscription(account, id); };
  co_return subscription_json(
      co_await run_store<storage::subscription_record>(ctx, plane::control, op));
}

}  // namespace flareq::handlers
