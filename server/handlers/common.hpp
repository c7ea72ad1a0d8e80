// What every handler shares: the family of error codes a route answers
// with, and the storage call that turns storage outcomes into API errors.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <utility>

#include "server/api_error.hpp"
#include "server/handlers/handler.hpp"
#include "server/handlers/query.hpp"
#include "server/handlers/render.hpp"
#include "server/rules.hpp"
#include "server/storage_call.hpp"
#include "storage/queue_store.hpp"

namespace flareq::handlers {

// The named segments of a route, copied for a storage operation to own.
inline std::string account_of(const route_params& p) {
  return std::string(p.get("account_id"));
}
inline std::string queue_of(const route_params& p) {
  return std::string(p.get("queue_id"));
}
inline std::string consumer_of(const route_params& p) {
  return std::string(p.get("consumer_id"));
}
inline std::string subscription_of(const route_params& p) {
  return std::string(p.get("subscription_id"));
}

// Which family of error codes a route answers with (decisions.md, Errors).
enum class plane { message, control };

// Rethrows a storage outcome as the API error of the plane.
[[noreturn]] void rethrow_store_error(const storage::store_error& e, plane p);

// Runs op on the writer (see call_storage) with storage outcomes as API
// errors. op is taken by lvalue reference, so it must be a named variable of
// the caller's: a lambda temporary inside co_await is destroyed twice by
// GCC 12, and this signature cannot be called with one.
template <class T, class Fn>
boost::asio::awaitable<T> run_store(handler_context& ctx, plane p, Fn& op, bool alone = false) {
  try {
    co_return co_await call_storage<T>(ctx.writer, std::move(op), alone);
  } catch (const storage::store_error& e) {
    rethrow_store_error(e, p);
  }
}

}  // namespace flareq::handlers
