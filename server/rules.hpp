// The rules of the API's bodies, shared by the handlers and the config file:
// the limits and defaults of decisions.md in one place, the JSON body and
// field readers that report api_error, and the queue and consumer settings.
// Pure functions; safe from any thread.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/api_error.hpp"
#include "storage/queue_store.hpp"

namespace flareq {

namespace limits {
// Messages (Cloudflare's limits).
inline constexpr std::int64_t max_message_bytes = 128'000;
inline constexpr std::int64_t max_batch_bytes = 256'000;
inline constexpr std::size_t max_batch_messages = 100;
// Pull and peek.
inline constexpr std::int64_t max_pull_batch = 100;
inline constexpr std::int64_t default_pull_batch = 5;
inline constexpr std::int64_t max_visibility_timeout_ms = 43'200'000;
// Queue settings.
inline constexpr std::int64_t min_retention = 60;
inline constexpr std::int64_t max_retention = 1'209'600;
// Consumer settings, and the defaults a consumer shows where none was set.
inline constexpr std::int64_t max_consumer_batch = 100;
inline constexpr std::int64_t max_consumer_retries = 100;
inline constexpr std::int64_t max_concurrency = 250;
inline constexpr std::int64_t max_wait_time_ms = 60'000;
inline constexpr std::int64_t default_worker_batch = 10;
inline constexpr std::int64_t default_pull_consumer_batch = 5;
inline constexpr std::int64_t default_max_wait_time_ms = 5000;
// Lists.
inline constexpr std::int64_t max_page = 1'000'000;
inline constexpr std::int64_t max_per_page = 1000;
inline constexpr std::int64_t queues_per_page = 100;
inline constexpr std::int64_t subscriptions_per_page = 20;
inline constexpr std::size_t max_subscription_name_bytes = 255;
}  // namespace limits

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

// The queue settings a request gives; nullopt leaves one as it is.
struct queue_settings_patch {
  std::optional<std::int64_t> delivery_delay;
  std::optional<bool> delivery_paused;
  std::optional<std::int64_t> message_retention_period;
  // base with the given fields replaced.
  storage::queue_settings over(storage::queue_settings base) const;
};

// Reads body["settings"] (absent or null: an empty patch). Throws
// api_error(queue_settings_invalid, 100128) naming a bad field.
queue_settings_patch read_queue_settings_patch(const boost::json::object& body,
                                               std::int64_t max_delay);

// Reads body["settings"] over base: the fields given replace base's. Throws
// api_error(queue_settings_invalid, 100128) naming a bad field.
storage::queue_settings read_queue_settings(const boost::json::object& body,
                                            storage::queue_settings base, std::int64_t max_delay);

// Reads a consumer: {"type", "script_name", "dead_letter_queue", "settings"}.
// Throws api_error(control_body_invalid) for a bad type or script, and
// (consumer_settings_invalid, 100127) for a bad dead_letter_queue or setting.
storage::consumer_input read_consumer_input(const boost::json::value& body, std::int64_t max_delay);

using storage::is_valid_queue_name;

}  // namespace flareq
