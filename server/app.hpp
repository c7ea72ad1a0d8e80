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

struct http_response {
  unsigned status = 200;
  std::string body;   // always a JSON envelope (for HEAD, what a GET would get)
  std::string allow;  // the Allow header of a 405
};

class app {
 public:
  // The references must outlive the app.
  app(storage::writer& writer, const config& settings, const logger& log);

  // Answers one request. Never throws: anything unexpected becomes 500/15000.
  boost::asio::awaitable<http_response> handle(const http_request& req);

  // Renders an error that happened before a request could be read whole
  // (the transport's body limit, say), and logs it like any other request.
  http_response reject(const http_request& req, const api_error& error,
                       std::chrono::steady_clock::time_point started) const;

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
