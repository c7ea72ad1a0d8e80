// What the handlers share: JSON body parsing and field validation that
// report api_error, the mapping of storage outcomes to API errors, the
// storage call with that mapping, the wire form of queues and consumers,
// query strings, and base64.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.hpp"
#include "server/handlers/handler.hpp"
#include "server/storage_call.hpp"
#include "storage/queue_store.hpp"

namespace flareq::handlers {

// Which family of error codes a route answers with (decisions.md, Errors).
enum class plane { message, control };

// Parses a request body as JSON, whatever its Content-Type. With
// empty_is_object, an empty body counts as {}. Throws api_error(body_not_json).
boost::json::value parse_json_body(std::string_view body, bool empty_is_object = false);

// Returns the body as an object, or throws api_error(shape) naming what.
const boost::json::object& require_object(const boost::json::value& v, errc shape,
                                          std::string_view what);

// Reads an optional whole number in [lo, hi]; null counts as absent. Throws
// api_error(bad) naming the field.
std::optional<std::int64_t> optional_int(const boost::json::object& o, std::string_view name,
                                         std::int64_t lo, std::int64_t hi, errc bad);
std::optional<bool> optional_bool(const boost::json::object& o, std::string_view name, errc bad);
std::optional<std::string> optional_string(const boost::json::object& o, std::string_view name,
                                           errc bad);

// Rethrows a storage outcome as the API error of the plane.
[[noreturn]] void rethrow_store_error(const storage::store_error& e, plane p);

// Runs op on the writer (see call_storage) with storage outcomes as API
// errors. Pass a named op: a lambda temporary inside co_await is destroyed
// twice by GCC 12.
template <class T, class Fn>
boost::asio::awaitable<T> run_store(handler_context& ctx, plane p, Fn op) {
  try {
    co_return co_await call_storage<T>(ctx.writer, std::move(op));
  } catch (const storage::store_error& e) {
    rethrow_store_error(e, p);
  }
}

// Reads body["settings"] over base: the fields given replace base's. Throws
// api_error(queue_settings_invalid, 100128) naming a bad field.
storage::queue_settings read_queue_settings(const boost::json::object& body,
                                            storage::queue_settings base, std::int64_t max_delay);

// Reads a consumer: {"type", "script_name", "dead_letter_queue", "settings"}.
// Throws api_error(control_body_invalid) for a bad type or script, and
// (consumer_settings_invalid, 100127) for a bad dead_letter_queue or setting.
storage::consumer_input read_consumer_input(const boost::json::value& body, std::int64_t max_delay);

using storage::is_valid_queue_name;

boost::json::value queue_json(const storage::queue_record& q);
boost::json::value consumer_json(const storage::consumer_record& c, bool embedded);
boost::json::value metrics_json(const storage::queue_metrics& m);

// Returns every value of key in the target's query string, percent-decoded.
std::vector<std::string> query_values(std::string_view target, std::string_view key);

// Reads the last value of key in the query string as a whole number from 1
// to hi; fallback when absent. Throws api_error(query_invalid).
std::int64_t query_whole_number(std::string_view target, std::string_view key,
                                std::int64_t fallback, std::int64_t hi);

// The envelope's result_info for one page of a list.
boost::json::value page_info(std::int64_t page, std::int64_t per_page, std::size_t count,
                             std::int64_t total_count);

// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view data);

}  // namespace flareq::handlers
