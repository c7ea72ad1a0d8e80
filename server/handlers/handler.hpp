// What every route handler is given and returns. A handler validates the
// request, calls storage through the writer, and returns the envelope's
// `result`; it reports failure by throwing api_error. Handlers run on the
// I/O threads, one coroutine per request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "server/config.hpp"
#include "server/router.hpp"

namespace flareq {

namespace storage {
class writer;
}

// The parts of an HTTP request the API looks at.
struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string body;
  std::optional<std::string> authorization;  // headers; nullopt when absent
  std::optional<std::string> auth_email;
  std::optional<std::string> auth_key;
  std::string remote;      // peer address, for the log
  std::string request_id;  // sent back in X-Request-Id and named in the log line
};

// Shared by every handler; read-only while the server runs.
struct handler_context {
  storage::writer& writer;
  const config& settings;
};

// What a handler answers: the envelope's result, and result_info for lists.
struct handler_result {
  handler_result(boost::json::value r = nullptr) : result(std::move(r)) {}  // NOLINT: implicit
  boost::json::value result;
  std::optional<boost::json::value> result_info;
};

using handler_fn = boost::asio::awaitable<handler_result> (*)(handler_context&, const http_request&,
                                                              const route_params&);

}  // namespace flareq
