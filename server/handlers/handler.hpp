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
#include "server/http/message.hpp"
#include "server/router.hpp"

namespace flareq {

namespace storage {
class writer;
}

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
