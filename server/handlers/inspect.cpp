// Inspection routes (see inspect.hpp).
#include "server/handlers/inspect.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "server/api_error.hpp"
#include "server/handlers/common.hpp"
#include "server/handlers/query.hpp"
#include "server/js_json.hpp"

namespace flareq::handlers {
namespace json = boost::json;

boost::asio::awaitable<handler_result> inspect_queues(handler_context& ctx, const http_request&,
                                                      const route_params&) {
  auto op = [](storage::queue_store& store) { return store.all_queues(); };
  auto all = co_await run_store<std::vector<storage::queue_overview>>(ctx, plane::control, op);
  json::array out;
  for (const auto& q : all) {
    json::value v = queue_json(q.queue);
    v.as_object()["account_id"] = q.queue.account_id;
    v.as_object()["metrics"] = metrics_json(q.metrics);
    out.push_back(std::move(v));
  }
  co_return json::value(std::move(out));
}

boost::asio::awaitable<handler_result> inspect_messages(handler_context& ctx,
                                                        const http_request& req,
                                                        const route_params& params) {
  std::int64_t page = query_whole_number(req.target, "page", 1, limits::max_page);
  std::int64_t per_page =
      query_whole_number(req.target, "per_page", limits::queues_per_page, limits::max_per_page);
  std::optional<storage::message_state> only;
  if (auto states = query_values(req.target, "state"); !states.empty()) {
    const std::string& s = states.back();
    if (s == "ready") {
      only = storage::message_state::ready;
    } else if (s == "delayed") {
      only = storage::message_state::delayed;
    } else if (s == "leased") {
      only = storage::message_state::leased;
    } else if (!s.empty()) {
      throw api_error(errc::query_invalid, "state must be ready, delayed or leased");
    }
  }
  auto op = [account = std::string(params.get("account_id")),
             queue = std::string(params.get("queue_id")), page, per_page,
             only](storage::queue_store& store) {
    return store.inspect_messages(account, queue, page, per_page, only);
  };
  auto found = co_await run_store<storage::message_page>(ctx, plane::control, op);
  static constexpr const char* states[] = {"ready", "delayed", "leased"};
  json::array messages;
  for (const storage::inspected_message& i : found.messages) {
    const storage::message_record& m = i.message;
    json::object o;
    o["id"] = m.id;
    o["state"] = states[static_cast<int>(i.state)];
    o["attempts"] = m.attempts;
    o["content_type"] = storage::to_string(m.type);
    o["size_bytes"] = m.size_bytes;
    o["timestamp_ms"] = m.timestamp_ms;
    o["visible_at_ms"] = m.visible_at_ms;
    if (m.type == storage::content_type::text) {
      o["body"] = m.body;
    } else {
      boost::system::error_code ec;
      json::value body = js_parse(m.body, ec);
      o["body"] = ec ? json::value(m.body) : std::move(body);
    }
    messages.push_back(std::move(o));
  }
  handler_result out(std::move(messages));
  out.result_info = page_info(page, per_page, found.messages.size(), found.total_count);
  co_return out;
}

boost::asio::awaitable<handler_result> reset_all(handler_context& ctx, const http_request&,
                                                 const route_params&) {
  auto op = [](storage::queue_store& store) { return store.reset(); };
  auto removed = co_await run_store<storage::reset_counts>(ctx, plane::control, op);
  co_return json::value{{"queues_deleted", removed.queues}, {"messages_deleted", removed.messages}};
}

}  // namespace flareq::handlers
