// The API as a function from request to response: credentials, the route
// table, handlers, the envelope, and one access-log line per request. It
// knows nothing of sockets (http/server.cpp feeds it), so tests can call it
// directly. Safe to call from any I/O thread at once.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "server/api_error.hpp"
#include "server/handlers/handler.hpp"
#include "server/log.hpp"
#include "server/router.hpp"

namespace flareq {

class app final : public http_handler {
 public:
  // The references must outlive the app.
  app(storage::writer& writer, const config& settings, const logger& log);

  // Answers one request. Never throws: anything unexpected becomes 500/15000.
  boost::asio::awaitable<http_response> handle(const http_request& req) override;

  // Renders a transport error as the API's error (the one place that maps
  // them to Cloudflare codes), and logs it like any other request.
  http_response reject(const http_request& req, const transport_error& error,
                       std::chrono::steady_clock::time_point started) const override;

 private:
  struct route_entry;
  static const std::vector<route_entry>& route_table();

  // One line per request; error is the failure's first entry, when any.
  void log_access(const http_request& req, unsigned status,
                  std::chrono::steady_clock::time_point started, const error_detail* error) const;

  handler_context context_;
  const logger& log_;
  router router_;
};

}  // namespace flareq
