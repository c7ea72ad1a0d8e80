// The routes that let people and tools look at a running flareq without
// credentials: the Prometheus scrape and the dashboard's files (the
// dashboard then asks for a token and calls the API like any client).
#pragma once

#include <string_view>
#include <vector>

#include "server/handlers/handler.hpp"

namespace flareq {

// One of the dashboard's files, compiled into the binary from server/ui/
// (cmake/embed_files.cmake writes the definition of dashboard_files()).
struct embedded_file {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view content_type;
  std::string_view body;
};
const std::vector<embedded_file>& dashboard_files();

}  // namespace flareq

namespace flareq::handlers {

// GET /metrics: the Prometheus text format (an unknown route under --metrics=false).
boost::asio::awaitable<handler_result> prometheus_metrics(handler_context&, const http_request&,
                                                          const route_params&);
// GET /_flareq/ui, /_flareq/ui/ (index.html) and /_flareq/ui/NAME.
boost::asio::awaitable<handler_result> dashboard_file(handler_context&, const http_request&,
                                                      const route_params&);

}  // namespace flareq::handlers
