// flareq's own routes for people and tests, outside the Cloudflare API
// (under /_flareq): every queue with its metrics, a queue's messages in
// every state, and a reset. They need credentials like the API.
#pragma once

#include "server/handlers/handler.hpp"

namespace flareq::handlers {

// GET /_flareq/queues
boost::asio::awaitable<handler_result> inspect_queues(handler_context&, const http_request&,
                                                      const route_params&);
// GET /_flareq/queues/:account_id/:queue_id/messages?page=&per_page=&state=
boost::asio::awaitable<handler_result> inspect_messages(handler_context&, const http_request&,
                                                        const route_params&);
// POST /_flareq/reset
boost::asio::awaitable<handler_result> reset_all(handler_context&, const http_request&,
                                                 const route_params&);

}  // namespace flareq::handlers
