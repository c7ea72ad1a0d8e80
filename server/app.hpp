// The API as a function from request to response: credentials, the route
// table, handlers, the envelope, and one access-log line per request. It
// knows nothing of sockets (http/server.cpp feeds it), so tests can call it
// directly. Safe to call from any I/O thread at once.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "server/api_error.hpp"
#include "server/handlers/handler.hpp"
#include "server/log.hpp"
#include "server/router.hpp"

namespace flareq {

namespace storage {
class random_source;
}
class metrics_registry;

// What an app shares with the rest of its run (see instance.cpp).
struct parts_of_a_run {
  storage::clock& clock;
  storage::random_source& random;  // request ids
  event_hub& events;
  fault_rules& faults;
  metrics_registry* metrics;  // null under --metrics=false
};

class app final : public http_handler {
 public:
  // The references must outlive the app.
  app(storage::writer& writer, const config& settings, const logger& log, parts_of_a_run run);

  // Answers one request. Never throws: anything unexpected becomes 500/15000.
  boost::asio::awaitable<http_response> handle(const http_request& req) override;

  // Renders a transport error as the API's error (the one place that maps
  // them to Cloudflare codes), and logs it like any other request.
  http_response reject(const http_request& req, const transport_error& error,
                       std::chrono::steady_clock::time_point started) const override;

  // The Date header follows the app's clock (a manual one too).
  std::int64_t now_seconds() const override;
  // From the random source: repeatable under --seed.
  std::string request_id_prefix() override;
  // Ends the event streams.
  void stopping() override;

  // The names of the API's routes, for fault rules.
  static std::vector<std::string_view> route_names();
  // Each route's label in the metrics, by route index: its name, or for
  // flareq's own routes what they are (healthz, readyz, prometheus,
  // dashboard, flareq).
  static std::vector<std::string> metric_labels();

 private:
  struct route_entry;
  static const std::vector<route_entry>& route_table();

  // One line per request; error is the failure's first entry, when any.
  void log_access(const http_request& req, unsigned status,
                  std::chrono::steady_clock::time_point started, const error_detail* error) const;
  // Counts the request in the metrics (route: an index, or none).
  void count(std::optional<std::size_t> route, unsigned status,
             std::chrono::steady_clock::time_point started) const;

  std::vector<std::string_view> names_;
  handler_context context_;
  const logger& log_;
  storage::random_source& random_;
  std::atomic<bool> stopping_{false};  // set once by stopping(): latency faults end early
  router router_;
};

}  // namespace flareq
