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

std::optional<std::string> read_name(const json::object& body, bool required) {
  auto name = optional_string(body, "queue_name", shape);
  if (!name) {
    if (required) throw api_error(shape, "queue_name is required");
    return std::nullopt;
  }
  if (!is_valid_queue_name(*name)) throw api_error(errc::invalid_queue_name, *name);
  return name;
}

}  // namespace

boost::asio::awaitable<handler_result> list_queues(handler_context& ctx, const http_request& req,
                                                   const route_params& params) {
  std::int64_t page = query_whole_number(req.target, "page", 1, limits::max_page);
  std::int64_t per_page =
      query_whole_number(req.target, "per_page", limits::queues_per_page, limits::max_per_page);
  std::vector<std::string> names = query_values(req.target, "name");
  std::erase(names, std::string());
  auto op = [account = account_of(params), names = std::move(names), page,
             per_page](storage::queue_store& store) {
    return store.list_queues(account, names, page, per_page);
  };
  storage::queue_page found = co_await run_store<storage::queue_page>(ctx, plane::control, op);
  json::array queues;
  for (const auto& q : found.queues) queues.push_back(queue_json(q));
  handler_result out(queues);
  out.result_info = page_info(page, per_page, found.queues.size(), found.total_count);
  co_return out;
}

boost::asio::awaitable<handler_result> create_queue(handler_context& ctx, const http_request& req,
                                                    const route_params& params) {
  json::value body = parse_json_body(req.body);
  const json::object& obj = require_object(body, shape, "the request body");
  std::string name = *read_name(obj, true);
  storage::queue_settings settings = read_queue_settings(obj, {}, ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), name = std::move(name),
             settings](storage::queue_store& store) {
    return store.create_queue(account, name, settings);
  };
  co_return queue_json(co_await run_store<storage::queue_record>(ctx, plane::control, op));
}

boost::asio::awaitable<handler_result> get_queue(handler_context& ctx, const http_request&,
                                                 const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params)](storage::queue_store& store) {
    return store.get_queue(account, queue);
  };
  co_return queue_json(co_await run_store<storage::queue_record>(ctx, plane::control, op));
}

namespace {

// PUT and PATCH: the same body; PUT starts from the defaults, PATCH from
// the queue's settings, in the same transaction as the update.
boost::asio::awaitable<handler_result> update_queue(handler_context& ctx, const http_request& req,
                                                    const route_params& params, bool merge) {
  json::value body = parse_json_body(req.body, true);
  const json::object& obj = require_object(body, shape, "the request body");
  std::optional<std::string> name = read_name(obj, false);
  // Validated here, outside the writer; the writer only applies it (PATCH:
  // over the stored settings, in the same transaction as the update).
  queue_settings_patch patch = read_queue_settings_patch(obj, ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), queue = queue_of(params), name = std::move(name), patch,
             merge](storage::queue_store& store) {
    storage::queue_settings base;
    if (merge) base = store.get_queue(account, queue).settings;
    return store.update_queue(account, queue, name, patch.over(base));
  };
  co_return queue_json(co_await run_store<storage::queue_record>(ctx, plane::control, op));
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
  co_await run_store<bool>(ctx, plane::control, op);
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
  co_return queue_json(co_await run_store<storage::queue_record>(ctx, plane::control, op));
}

boost::asio::awaitable<handler_result> purge_status(handler_context& ctx, const http_request&,
                                                    const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params)](storage::queue_store& store) {
    return store.purge_started_us(account, queue);
  };
  auto started = co_await run_store<std::optional<std::int64_t>>(ctx, plane::control, op);
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
  auto found = co_await run_store<std::vector<storage::consumer_record>>(ctx, plane::control, op);
  json::array out;
  for (const auto& c : found) out.push_back(consumer_json(c, false));
  handler_result result(out);
  result.result_info = json::value{{"page", 1},
                                   {"per_page", limits::queues_per_page},
                                   {"count", found.size()},
                                   {"total_count", found.size()},
                                   {"total_pages", 1}};
  co_return result;
}

boost::asio::awaitable<handler_result> create_consumer(handler_context& ctx,
                                                       const http_request& req,
                                                       const route_params& params) {
  storage::consumer_input in =
      read_consumer_input(parse_json_body(req.body), ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), queue = queue_of(params), in = std::move(in)](
                storage::queue_store& store) { return store.create_consumer(account, queue, in); };
  co_return consumer_json(co_await run_store<storage::consumer_record>(ctx, plane::control, op),
                          false);
}

boost::asio::awaitable<handler_result> get_consumer(handler_context& ctx, const http_request&,
                                                    const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params),
             consumer = consumer_of(params)](storage::queue_store& store) {
    return store.get_consumer(account, queue, consumer);
  };
  co_return consumer_json(co_await run_store<storage::consumer_record>(ctx, plane::control, op),
                          false);
}

boost::asio::awaitable<handler_result> put_consumer(handler_context& ctx, const http_request& req,
                                                    const route_params& params) {
  storage::consumer_input in =
      read_consumer_input(parse_json_body(req.body), ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), queue = queue_of(params), consumer = consumer_of(params),
             in = std::move(in)](storage::queue_store& store) {
    return store.put_consumer(account, queue, consumer, in);
  };
  co_return consumer_json(co_await run_store<storage::consumer_record>(ctx, plane::control, op),
                          false);
}

boost::asio::awaitable<handler_result> delete_consumer(handler_context& ctx, const http_request&,
                                                       const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params),
             consumer = consumer_of(params)](storage::queue_store& store) {
    store.delete_consumer(account, queue, consumer);
    return true;
  };
  co_await run_store<bool>(ctx, plane::control, op);
  co_return handler_result();
}

}  // namespace flareq::handlers
