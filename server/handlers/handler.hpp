// What every route handler is given and returns. A handler validates the
// request, calls storage through the writer, and returns the envelope's
// `result`; it reports failure by throwing api_error. Handlers run on the
// I/O threads, one coroutine per request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/config.hpp"
#include "server/http/message.hpp"
#include "server/router.hpp"

namespace flareq {

namespace storage {
class clock;
class writer;
}  // namespace storage
class event_hub;
class fault_rules;
class metrics_registry;

// Shared by every handler; read-only while the server runs (faults and
// events are safe from any thread).
struct handler_context {
  storage::writer& writer;
  const config& settings;
  storage::clock& clock;
  event_hub& events;
  fault_rules& faults;
  std::span<const std::string_view> route_names;  // what a fault rule may match
  metrics_registry* metrics;                      // null under --metrics=false
};

// What a handler answers: the envelope's result, and result_info for lists.
struct handler_result {
  handler_result(boost::json::value r = nullptr) : result(std::move(r)) {}  // NOLINT: implicit
  boost::json::value result;
  std::optional<boost::json::value> result_info;
  // Instead of an envelope: a body sent as it comes (stream), or this body
  // (when content_type is set), of this content type.
  std::shared_ptr<body_stream> stream;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // more headers to send
};

using handler_fn = boost::asio::awaitable<handler_result> (*)(handler_context&, const http_request&,
                                                              const route_params&);

}  // namespace flareq
