// The test harness under /_flareq (outside the Cloudflare API, credentials
// required like it): the clock tests can move, snapshots of the whole
// state, fault rules, and the journal of every message, paged or live
// (server-sent events). README's "Testing with flareq" shows each.
#pragma once

#include "server/handlers/handler.hpp"

namespace flareq::handlers {

// GET /_flareq/clock, POST /_flareq/clock {"advance_ms": N} | {"now_ms": T}
boost::asio::awaitable<handler_result> get_clock(handler_context&, const http_request&,
                                                 const route_params&);
boost::asio::awaitable<handler_result> move_clock(handler_context&, const http_request&,
                                                  const route_params&);

// POST /_flareq/snapshots {"name"}, GET /_flareq/snapshots,
// POST /_flareq/snapshots/:name/restore, DELETE /_flareq/snapshots/:name
boost::asio::awaitable<handler_result> save_snapshot(handler_context&, const http_request&,
                                                     const route_params&);
boost::asio::awaitable<handler_result> list_snapshots(handler_context&, const http_request&,
                                                      const route_params&);
boost::asio::awaitable<handler_result> restore_snapshot(handler_context&, const http_request&,
                                                        const route_params&);
boost::asio::awaitable<handler_result> delete_snapshot(handler_context&, const http_request&,
                                                       const route_params&);

// POST /_flareq/faults, GET /_flareq/faults, DELETE /_flareq/faults[/:fault_id]
boost::asio::awaitable<handler_result> add_fault(handler_context&, const http_request&,
                                                 const route_params&);
boost::asio::awaitable<handler_result> list_faults(handler_context&, const http_request&,
                                                   const route_params&);
boost::asio::awaitable<handler_result> clear_faults(handler_context&, const http_request&,
                                                    const route_params&);
boost::asio::awaitable<handler_result> delete_fault(handler_context&, const http_request&,
                                                    const route_params&);

// GET /_flareq/events?account=&queue=&message=&after=&limit=
boost::asio::awaitable<handler_result> list_events(handler_context&, const http_request&,
                                                   const route_params&);
// GET /_flareq/events/stream (same filters; Last-Event-ID or after= resumes)
boost::asio::awaitable<handler_result> stream_events(handler_context&, const http_request&,
                                                     const route_params&);

}  // namespace flareq::handlers
