// Event subscriptions (/accounts/:account_id/event_subscriptions/
// subscriptions): stored, validated and listed as Cloudflare does; flareq
// produces no events of other products, so none are ever sent.
#pragma once

#include "server/handlers/handler.hpp"

namespace flareq::handlers {

// GET ...?page=&per_page=&queue_id=&order=&direction=
boost::asio::awaitable<handler_result> list_subscriptions(handler_context&, const http_request&,
                                                          const route_params&);
// POST
boost::asio::awaitable<handler_result> create_subscription(handler_context&, const http_request&,
                                                           const route_params&);
// GET .../:subscription_id
boost::asio::awaitable<handler_result> get_subscription(handler_context&, const http_request&,
                                                        const route_params&);
// PATCH .../:subscription_id (name, enabled, events, destination)
boost::asio::awaitable<handler_result> edit_subscription(handler_context&, const http_request&,
                                                         const route_params&);
// DELETE .../:subscription_id: answers the deleted subscription
boost::asio::awaitable<handler_result> delete_subscription(handler_context&, const http_request&,
                                                           const route_params&);

}  // namespace flareq::handlers
