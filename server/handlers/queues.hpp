// The control plane: queues (list, create, get, replace, edit, delete),
// queue purge, and consumers.
#pragma once

#include "server/handlers/handler.hpp"

namespace flareq::handlers {

// GET /accounts/:account_id/queues?page=&per_page=&name=...
boost::asio::awaitable<handler_result> list_queues(handler_context&, const http_request&,
                                                   const route_params&);
// POST /accounts/:account_id/queues
boost::asio::awaitable<handler_result> create_queue(handler_context&, const http_request&,
                                                    const route_params&);
// GET .../queues/:queue_id
boost::asio::awaitable<handler_result> get_queue(handler_context&, const http_request&,
                                                 const route_params&);
// PUT .../queues/:queue_id (settings replaced)
boost::asio::awaitable<handler_result> replace_queue(handler_context&, const http_request&,
                                                     const route_params&);
// PATCH .../queues/:queue_id (settings merged)
boost::asio::awaitable<handler_result> edit_queue(handler_context&, const http_request&,
                                                  const route_params&);
// DELETE .../queues/:queue_id
boost::asio::awaitable<handler_result> delete_queue(handler_context&, const http_request&,
                                                    const route_params&);
// POST .../queues/:queue_id/purge
boost::asio::awaitable<handler_result> start_purge(handler_context&, const http_request&,
                                                   const route_params&);
// GET .../queues/:queue_id/purge
boost::asio::awaitable<handler_result> purge_status(handler_context&, const http_request&,
                                                    const route_params&);

// GET .../queues/:queue_id/consumers
boost::asio::awaitable<handler_result> list_consumers(handler_context&, const http_request&,
                                                      const route_params&);
// POST .../queues/:queue_id/consumers
boost::asio::awaitable<handler_result> create_consumer(handler_context&, const http_request&,
                                                       const route_params&);
// GET .../consumers/:consumer_id
boost::asio::awaitable<handler_result> get_consumer(handler_context&, const http_request&,
                                                    const route_params&);
// PUT .../consumers/:consumer_id (creates or replaces)
boost::asio::awaitable<handler_result> put_consumer(handler_context&, const http_request&,
                                                    const route_params&);
// DELETE .../consumers/:consumer_id
boost::asio::awaitable<handler_result> delete_consumer(handler_context&, const http_request&,
                                                       const route_params&);

}  // namespace flareq::handlers
