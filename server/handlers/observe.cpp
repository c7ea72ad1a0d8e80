// The scrape and the dashboard's files (see observe.hpp).
#include "server/handlers/observe.hpp"

#include <optional>

#include "server/api_error.hpp"
#include "server/handlers/common.hpp"
#include "server/metrics.hpp"
#include "storage/clock.hpp"
#include "storage/queue_store.hpp"

namespace flareq::handlers {

boost::asio::awaitable<handler_result> prometheus_metrics(handler_context& ctx, const http_request&,
                                                          const route_params&) {
  if (ctx.metrics == nullptr) throw api_error::no_route("/metrics");
  struct stored {
    std::vector<storage::queue_backlog> backlogs;
    storage::storage_footprint footprint;
  };
  auto op = [](storage::queue_store& store) { return stored{store.backlogs(), store.footprint()}; };
  // What does not need storage is still worth a scrape when storage fails.
  std::optional<stored> now;
  try {
    now = co_await run_store<stored>(ctx, plane::control, op);
  } catch (const std::exception&) {
    // The writer has said why in the log (the database file gone, say).
  }
  scrape_state state{ctx.clock.now_ms(), now ? &now->backlogs : nullptr,
                     now ? &now->footprint : nullptr, now.has_value()};
  handler_result out;
  out.body = ctx.metrics->render(state);
  out.content_type = "text/plain; version=0.0.4; charset=utf-8";
  co_return out;
}

boost::asio::awaitable<handler_result> dashboard_file(handler_context&, const http_request& req,
                                                      const route_params&) {
  std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  std::string_view name = path.substr(path.rfind('/') + 1);
  if (name.empty() || name == "ui") name = "index.html";
  for (const embedded_file& f : dashboard_files()) {
    if (f.name == name) {
      handler_result out;
      out.body = std::string(f.body);
      out.content_type = std::string(f.content_type);
      // Its own files and API only; never framed; always asked again.
      out.headers = {
          {"Content-Security-Policy",
           "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"X-Frame-Options", "DENY"},
          {"Cache-Control", "no-cache"},
      };
      co_return out;
    }
  }
  throw api_error::no_route(path);
}

}  // namespace flareq::handlers
