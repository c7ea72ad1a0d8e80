// The route table and the request pipeline (see app.hpp).
#include "server/app.hpp"

#include <boost/json/object.hpp>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

#include "server/auth.hpp"
#include "server/envelope.hpp"
#include "server/handlers/inspect.hpp"
#include "server/handlers/messages.hpp"
#include "server/handlers/queues.hpp"
#include "server/handlers/subscriptions.hpp"
#include "server/storage_call.hpp"
#include "storage/queue_store.hpp"

namespace flareq {
namespace json = boost::json;
namespace {

boost::asio::awaitable<handler_result> healthz(handler_context&, const http_request&,
                                               const route_params&) {
  co_return json::value(json::object{{"status", "ok"}});
}

boost::asio::awaitable<handler_result> readyz(handler_context& ctx, const http_request&,
                                              const route_params&) {
  bool ready = false;
  try {
    ready = co_await call_storage<bool>(ctx.writer,
                                        [](storage::queue_store& store) { return store.ready(); });
  } catch (const std::exception& e) {
    throw api_error(errc::not_ready, e.what());
  }
  if (!ready) throw api_error(errc::not_ready, "the database schema is not migrated");
  co_return json::value(json::object{{"status", "ready"}});
}

}  // namespace

struct app::route_entry {
  std::string_view method;
  std::string_view pattern;
  bool needs_credentials;
  handler_fn handler;
  bool message_plane = false;  // a malformed queue id is 10107, not 7003
};

// The one route table. Patterns answer with and without "/client/v4".
const std::vector<app::route_entry>& app::route_table() {
  using namespace handlers;
  constexpr std::string_view queues = "/accounts/:account_id/queues";
  constexpr std::string_view queue = "/accounts/:account_id/queues/:queue_id";
  constexpr std::string_view consumer =
      "/accounts/:account_id/queues/:queue_id/consumers/:consumer_id";
  constexpr std::string_view subscriptions =
      "/accounts/:account_id/event_subscriptions/subscriptions";
  constexpr std::string_view subscription =
      "/accounts/:account_id/event_subscriptions/subscriptions/:subscription_id";
  static const std::vector<route_entry> table = {
      {"GET", "/healthz", false, &healthz},
      {"GET", "/readyz", false, &readyz},
      {"GET", queues, true, &list_queues},
      {"POST", queues, true, &create_queue},
      {"GET", queue, true, &get_queue},
      {"PUT", queue, true, &replace_queue},
      {"PATCH", queue, true, &edit_queue},
      {"DELETE", queue, true, &delete_queue},
      {"GET", "/accounts/:account_id/queues/:queue_id/metrics", true, &queue_metrics},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages", true, &push_message, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/batch", true, &push_batch, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/pull", true, &pull_messages, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/ack", true, &ack_messages, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/peek", true, &peek_messages, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/purge", true, &purge_messages,
       true},
      {"POST", "/accounts/:account_id/queues/:queue_id/purge", true, &start_purge},
      {"GET", "/accounts/:account_id/queues/:queue_id/purge", true, &purge_status},
      {"GET", "/accounts/:account_id/queues/:queue_id/consumers", true, &list_consumers},
      {"POST", "/accounts/:account_id/queues/:queue_id/consumers", true, &create_consumer},
      {"GET", consumer, true, &get_consumer},
      {"PUT", consumer, true, &put_consumer},
      {"DELETE", consumer, true, &delete_consumer},
      {"GET", subscriptions, true, &list_subscriptions},
      {"POST", subscriptions, true, &create_subscription},
      {"GET", subscription, true, &get_subscription},
      {"PATCH", subscription, true, &edit_subscription},
      {"DELETE", subscription, true, &delete_subscription},
      {"GET", "/_flareq/queues", true, &inspect_queues},
      {"GET", "/_flareq/queues/:account_id/:queue_id/messages", true, &inspect_messages},
      {"POST", "/_flareq/reset", true, &reset_all},
  };
  return table;
}

app::app(storage::writer& writer, const config& settings, const logger& log)
    : context_{writer, settings}, log_(log) {
  const auto& table = route_table();
  for (std::size_t i = 0; i < table.size(); ++i) {
    router_.add(table[i].method, table[i].pattern, i);
  }
}

boost::asio::awaitable<http_response> app::handle(const http_request& req) {
  auto started = std::chrono::steady_clock::now();
  http_response res;
  std::optional<api_error> failure;
  try {
    route_match m = router_.match(req.method, req.target);
    bool is_public =
        m.result == route_match::outcome::found && !route_table()[m.index].needs_credentials;
    if (!is_public) {
      credentials given{req.authorization, req.auth_email, req.auth_key};
      if (auto error = check_credentials(given, context_.settings.api_tokens)) throw *error;
    }
    if (m.result == route_match::outcome::no_route) {
      // The message plane names a malformed queue id (decisions.md, Errors).
      if (m.near_index && route_table()[*m.near_index].message_plane && m.malformed == "queue_id") {
        throw api_error(errc::queue_id_malformed,
                        "a queue id is 1 to 32 characters of [A-Za-z0-9_-]");
      }
      throw api_error::no_route(m.path);
    }
    if (m.result == route_match::outcome::method_not_allowed) {
      res.allow = m.allowed;
      throw api_error(errc::method_not_allowed);
    }
    handler_result out = co_await route_table()[m.index].handler(context_, req, m.params);
    res.body = render_success(out.result, out.result_info ? &*out.result_info : nullptr);
  } catch (const api_error& e) {
    failure = e;
  } catch (const std::exception& e) {
    failure = api_error(errc::internal, e.what());
  }
  if (failure) {
    res.status = static_cast<unsigned>(failure->status());
    res.body = render_failure(*failure);
  }
  log_access(req, res.status, started, failure ? &failure->errors().front() : nullptr);
  co_return res;
}

http_response app::reject(const http_request& req, const transport_error& error,
                          std::chrono::steady_clock::time_point started) const {
  api_error as_api = [&] {
    switch (error.what) {
      case transport_error::kind::too_many_connections:
        return api_error(errc::too_many_connections, error.detail);
      case transport_error::kind::headers_too_large:
        return api_error(errc::headers_too_large, error.detail);
      case transport_error::kind::body_too_large:
        return api_error(errc::request_too_large, error.detail);
      case transport_error::kind::malformed:
        break;
    }
    return api_error::invalid_headers({{6003, error.detail, {}}});
  }();
  http_response res{static_cast<unsigned>(as_api.status()), render_failure(as_api), {}};
  log_access(req, res.status, started, &as_api.errors().front());
  return res;
}

void app::log_access(const http_request& req, unsigned status,
                     std::chrono::steady_clock::time_point started,
                     const error_detail* error) const {
  // Server errors are logged whatever the level; the rest as info.
  log_level level = status >= 500 ? log_level::error : log_level::info;
  if (!log_.enabled(level)) return;
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.2f", ms);
  std::string line = req.remote + " " + req.method + " " + std::string(path) + " " +
                     std::to_string(status) + " " + duration + "ms";
  std::vector<log_field> fields = {
      {"request_id", json::value(req.request_id)},
      {"remote", json::value(req.remote), false},
      {"method", json::value(req.method), false},
      {"path", json::value(path), false},
      {"status", json::value(status), false},
      {"duration_us", json::value(static_cast<std::int64_t>(std::llround(ms * 1000))), false},
  };
  if (error != nullptr) {
    fields.push_back({"error_code", json::value(error->code)});
    fields.push_back({"error", json::value(error->message)});
  }
  log_.write(level, line, fields);
}

}  // namespace flareq
