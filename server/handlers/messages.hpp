// The message plane: push, batch push, pull, ack (and retry), peek, purge
// by refs, and the metrics route. Body parsing is separate from the
// handlers so that it can be tested alone.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string_view>

#include "server/handlers/handler.hpp"
#include "storage/queue_store.hpp"

namespace flareq::handlers {

// Validates one message of a push: {"body", "content_type", "delay_seconds"}.
// Throws api_error: 10207 (shape), 10203 (content_type, delay) or 10204 (size).
storage::new_message parse_message(const boost::json::value& message,
                                   std::int64_t max_delay_seconds);

// Validates a batch: {"messages": [...], "delay_seconds"}; a message's own
// delay wins over the batch's. Throws api_error: 10206 (count), 10205
// (total size) and those of parse_message.
std::vector<storage::new_message> parse_batch(const boost::json::value& body,
                                              std::int64_t max_delay_seconds);

// Renders metrics as {"metadata":{"metrics":{...}}}.
boost::json::value metrics_result(const storage::queue_metrics& m);

// Renders a message as pull and peek show it: text bodies as they are, json
// bodies base64-encoded, metadata as strings.
boost::json::object message_json(const storage::message_record& m);

// POST .../messages
boost::asio::awaitable<handler_result> push_message(handler_context& ctx, const http_request& req,
                                                    const route_params& params);
// POST .../messages/batch
boost::asio::awaitable<handler_result> push_batch(handler_context& ctx, const http_request& req,
                                                  const route_params& params);
// POST .../messages/pull
boost::asio::awaitable<handler_result> pull_messages(handler_context& ctx, const http_request& req,
                                                     const route_params& params);
// POST .../messages/ack
boost::asio::awaitable<handler_result> ack_messages(handler_context& ctx, const http_request& req,
                                                    const route_params& params);
// POST .../messages/peek
boost::asio::awaitable<handler_result> peek_messages(handler_context& ctx, const http_request& req,
                                                     const route_params& params);
// POST .../messages/purge
boost::asio::awaitable<handler_result> purge_messages(handler_context& ctx, const http_request& req,
                                                      const route_params& params);
// GET .../metrics
boost::asio::awaitable<handler_result> queue_metrics(handler_context& ctx, const http_request& req,
                                                     const route_params& params);

}  // namespace flareq::handlers
