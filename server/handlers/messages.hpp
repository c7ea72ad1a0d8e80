// The message plane: push (and later batch, pull, ack, peek, purge).
// Body parsing is separate from the handlers so it can be tested alone.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/json/value.hpp>

#include "server/handlers/handler.hpp"
#include "storage/queue_store.hpp"

namespace flareq::handlers {

// Largest message body Cloudflare accepts, in bytes.
inline constexpr std::int64_t max_message_bytes = 128'000;

// Parses a request body as JSON, whatever its Content-Type. Throws
// api_error(body_not_json).
boost::json::value parse_json_body(std::string_view body);

// Validates one message of a push: {"body", "content_type", "delay_seconds"}.
// Throws api_error: 10207 (shape), 10203 (content_type, delay) or 10204 (size).
storage::new_message parse_message(const boost::json::value& message,
                                   std::int64_t max_delay_seconds);

// Renders metrics as {"metadata":{"metrics":{...}}}.
boost::json::value metrics_result(const storage::queue_metrics& m);

// POST /accounts/:account_id/queues/:queue_id/messages
boost::asio::awaitable<boost::json::value> push_message(handler_context& ctx,
                                                        const http_request& req,
                                                        const route_params& params);

}  // namespace flareq::handlers
