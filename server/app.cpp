// The route table and the request pipeline (see app.hpp).
#include "server/app.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

#include "server/auth.hpp"
#include "server/envelope.hpp"
#include "server/event_hub.hpp"
#include "server/faults.hpp"
#include "server/handlers/harness.hpp"
#include "server/handlers/inspect.hpp"
#include "server/handlers/messages.hpp"
#include "server/handlers/observe.hpp"
#include "server/handlers/queues.hpp"
#include "server/handlers/subscriptions.hpp"
#include "server/metrics.hpp"
#include "server/storage_call.hpp"
#include "storage/clock.hpp"
#include "storage/ids.hpp"
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
  // What fault rules and logs call it; "" for flareq's own routes, which
  // faults never touch (so that a rule can always be removed).
  std::string_view name;
  handler_fn handler;
  bool needs_credentials = true;
  bool message_plane = false;  // a malformed queue id is 10107, not 7003
};

// The one route table. Patterns answer with and without "/client/v4".
const std::vector<app::route_entry>& app::route_table() {
  using namespace handlers;
  constexpr std::string_view queues = "/accounts/:account_id/queues";
  constexpr std::string_view queue = "/accounts/:account_id/queues/:queue_id";
  constexpr std::string_view messages = "/accounts/:account_id/queues/:queue_id/messages";
  constexpr std::string_view purge = "/accounts/:account_id/queues/:queue_id/purge";
  constexpr std::string_view consumers = "/accounts/:account_id/queues/:queue_id/consumers";
  constexpr std::string_view consumer =
      "/accounts/:account_id/queues/:queue_id/consumers/:consumer_id";
  constexpr std::string_view subscriptions =
      "/accounts/:account_id/event_subscriptions/subscriptions";
  constexpr std::string_view subscription =
      "/accounts/:account_id/event_subscriptions/subscriptions/:subscription_id";
  constexpr bool open = false;
  constexpr bool locked = true;
  static const std::vector<route_entry> table = {
      {"GET", "/healthz", "", &healthz, open},
      {"GET", "/readyz", "", &readyz, open},
      {"GET", "/metrics", "", &prometheus_metrics, open},
      {"GET", "/_flareq/ui", "", &dashboard_file, open},
      {"GET", "/_flareq/ui/", "", &dashboard_file, open},
      {"GET", "/_flareq/ui/app.js", "", &dashboard_file, open},
      {"GET", "/_flareq/ui/style.css", "", &dashboard_file, open},
      {"GET", queues, "queues", &list_queues},
      {"POST", queues, "queues", &create_queue},
      {"GET", queue, "queue", &get_queue},
      {"PUT", queue, "queue", &replace_queue},
      {"PATCH", queue, "queue", &edit_queue},
      {"DELETE", queue, "queue", &delete_queue},
      {"GET", "/accounts/:account_id/queues/:queue_id/metrics", "metrics", &queue_metrics},
      {"POST", messages, "push", &push_message, locked, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/batch", "batch", &push_batch,
       locked, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/pull", "pull", &pull_messages,
       locked, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/ack", "ack", &ack_messages, locked,
       true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/peek", "peek", &peek_messages,
       locked, true},
      {"POST", "/accounts/:account_id/queues/:queue_id/messages/purge", "purge_messages",
       &purge_messages, locked, true},
      {"POST", purge, "purge", &start_purge},
      {"GET", purge, "purge", &purge_status},
      {"GET", consumers, "consumers", &list_consumers},
      {"POST", consumers, "consumers", &create_consumer},
      {"GET", consumer, "consumer", &get_consumer},
      {"PUT", consumer, "consumer", &put_consumer},
      {"DELETE", consumer, "consumer", &delete_consumer},
      {"GET", subscriptions, "subscriptions", &list_subscriptions},
      {"POST", subscriptions, "subscriptions", &create_subscription},
      {"GET", subscription, "subscription", &get_subscription},
      {"PATCH", subscription, "subscription", &edit_subscription},
      {"DELETE", subscription, "subscription", &delete_subscription},
      {"GET", "/_flareq/queues", "", &inspect_queues},
      {"GET", "/_flareq/queues/:account_id/:queue_id/messages", "", &inspect_messages},
      {"POST", "/_flareq/reset", "", &reset_all},
      {"GET", "/_flareq/clock", "", &get_clock},
      {"POST", "/_flareq/clock", "", &move_clock},
      {"GET", "/_flareq/snapshots", "", &list_snapshots},
      {"POST", "/_flareq/snapshots", "", &save_snapshot},
      {"POST", "/_flareq/snapshots/:name/restore", "", &restore_snapshot},
      {"DELETE", "/_flareq/snapshots/:name", "", &delete_snapshot},
      {"GET", "/_flareq/faults", "", &list_faults},
      {"POST", "/_flareq/faults", "", &add_fault},
      {"DELETE", "/_flareq/faults", "", &clear_faults},
      {"DELETE", "/_flareq/faults/:fault_id", "", &delete_fault},
      {"GET", "/_flareq/events", "", &list_events},
      {"GET", "/_flareq/events/stream", "", &stream_events},
  };
  return table;
}

std::vector<std::string_view> app::route_names() {
  std::vector<std::string_view> names;
  for (const route_entry& e : route_table()) {
    if (!e.name.empty() && std::find(names.begin(), names.end(), e.name) == names.end()) {
      names.push_back(e.name);
    }
  }
  return names;
}

std::vector<std::string> app::metric_labels() {
  std::vector<std::string> labels;
  for (const route_entry& e : route_table()) {
    std::string_view p = e.pattern;
    labels.emplace_back(!e.name.empty()                ? e.name
                        : p == "/healthz"              ? "healthz"
                        : p == "/readyz"               ? "readyz"
                        : p == "/metrics"              ? "prometheus"
                        : p.starts_with("/_flareq/ui") ? "dashboard"
                                                       : "flareq");
  }
  return labels;
}

app::app(storage::writer& writer, const config& settings, const logger& log, parts_of_a_run run)
    : names_(route_names()),
      context_{writer, settings, run.clock, run.events, run.faults, names_, run.metrics},
      log_(log),
      random_(run.random) {
  const auto& table = route_table();
  for (std::size_t i = 0; i < table.size(); ++i) {
    router_.add(table[i].method, table[i].pattern, i);
  }
}

boost::asio::awaitable<http_response> app::handle(const http_request& req) {
  auto started = std::chrono::steady_clock::now();
  http_response res;
  std::optional<api_error> failure;
  std::optional<std::size_t> matched;
  try {
    route_match m = router_.match(req.method, req.target);
    if (m.result == route_match::outcome::found) matched = m.index;
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
    const route_entry& route = route_table()[m.index];
    std::optional<fault_rule> fault;
    if (!route.name.empty()) {
      // HEAD is a GET without the body: GET rules apply to it.
      std::string_view method = req.method == "HEAD" ? std::string_view("GET") : req.method;
      fault = context_.faults.draw(method, route.name, m.params.get("account_id"),
                                   m.params.get("queue_id"));
    }
    if (fault) {
      log_.write(log_level::warn,
                 "fault " + fault->id + " (" + std::string(to_string(fault->action)) + ") on " +
                     req.method + " " + std::string(route.name) + ", request " + req.request_id,
                 {{"fault", json::value(fault->id)}, {"request_id", json::value(req.request_id)}});
      res.headers.emplace_back("X-Flareq-Fault", fault->id);
      switch (fault->action) {
        case fault_action::error:
          throw api_error::injected(fault->status, fault->code, fault->message);
        case fault_action::close:
          res.drop = true;
          log_access(req, 0, started, nullptr);
          count(matched, 0, started);
          co_return res;
        case fault_action::latency: {
          // In slices, so that a stopping server does not wait it out.
          auto until =
              std::chrono::steady_clock::now() + std::chrono::milliseconds(fault->latency_ms);
          boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor);
          while (!stopping_.load() && std::chrono::steady_clock::now() < until) {
            wait.expires_at(
                std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
            co_await wait.async_wait(boost::asio::use_awaitable);
          }
          break;
        }
        case fault_action::answer_lost:
          res.drop = true;
          break;
      }
    }
    handler_result out = co_await route.handler(context_, req, m.params);
    for (auto& h : out.headers) res.headers.push_back(std::move(h));
    if (out.stream) {
      res.stream = std::move(out.stream);
      res.content_type = out.content_type;
    } else if (!out.content_type.empty()) {
      res.body = std::move(out.body);
      res.content_type = out.content_type;
    } else {
      res.body = render_success(out.result, out.result_info ? &*out.result_info : nullptr);
    }
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
  count(matched, res.drop ? 0 : res.status, started);  // 0: no answer (a fault)
  co_return res;
}

void app::count(std::optional<std::size_t> route, unsigned status,
                std::chrono::steady_clock::time_point started) const {
  if (context_.metrics == nullptr) return;
  context_.metrics->count_request(route, status, std::chrono::steady_clock::now() - started);
}

std::int64_t app::now_seconds() const {
  return context_.clock.now_ms() / 1000;
}

std::string app::request_id_prefix() {
  std::uint8_t bytes[4];
  random_.fill(bytes);
  char out[9];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
  return out;
}

void app::stopping() {
  stopping_.store(true);
  context_.events.close();
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
  count(std::nullopt, res.status, started);
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
