// Rendering (see render.hpp).
#include "server/handlers/render.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "server/rules.hpp"
#include "storage/ids.hpp"

namespace flareq::handlers {
namespace json = boost::json;

json::value consumer_json(const storage::consumer_record& c, bool embedded) {
  const auto& s = c.input.settings;
  json::object settings;
  bool worker = c.input.type == storage::consumer_type::worker;
  settings["batch_size"] = s.batch_size.value_or(worker ? limits::default_worker_batch
                                                        : limits::default_pull_consumer_batch);
  if (worker) {
    settings["max_concurrency"] =
        s.max_concurrency ? json::value(*s.max_concurrency) : json::value(nullptr);
  }
  settings["max_retries"] = s.max_retries.value_or(storage::default_max_retries);
  if (worker)
    settings["max_wait_time_ms"] = s.max_wait_time_ms.value_or(limits::default_max_wait_time_ms);
  settings["retry_delay"] = s.retry_delay.value_or(0);
  if (!worker) {
    settings["visibility_timeout_ms"] =
        s.visibility_timeout_ms.value_or(storage::default_visibility_timeout_ms);
  }
  json::object o;
  o["consumer_id"] = c.consumer_id;
  o["created_on"] = storage::format_rfc3339_us(c.created_us);
  o["dead_letter_queue"] = c.input.dead_letter_queue;
  o["queue_id"] = c.queue_id;
  o["queue_name"] = c.queue_name;
  o["type"] = storage::to_string(c.input.type);
  if (worker) {
    o["script_name"] = c.input.script_name;
    if (embedded) o["script"] = c.input.script_name;
  }
  o["settings"] = std::move(settings);
  return o;
}

json::value queue_json(const storage::queue_record& q) {
  json::array consumers;
  if (q.consumer) consumers.push_back(consumer_json(*q.consumer, true));
  json::object o;
  o["queue_id"] = q.queue_id;
  o["queue_name"] = q.queue_name;
  o["created_on"] = storage::format_rfc3339_us(q.created_us);
  o["modified_on"] = storage::format_rfc3339_us(q.modified_us);
  o["producers_total_count"] = 0;
  o["producers"] = json::array();
  o["consumers_total_count"] = consumers.size();
  o["consumers"] = std::move(consumers);
  o["settings"] = {{"delivery_delay", q.settings.delivery_delay},
                   {"delivery_paused", q.settings.delivery_paused},
                   {"message_retention_period", q.settings.message_retention_period}};
  return o;
}

json::value metrics_json(const storage::queue_metrics& m) {
  return {{"backlog_bytes", m.backlog_bytes},
          {"backlog_count", m.backlog_count},
          {"oldest_message_timestamp_ms", m.oldest_message_timestamp_ms}};
}

json::value page_info(std::int64_t page, std::int64_t per_page, std::size_t count,
                      std::int64_t total_count) {
  return {{"page", page},
          {"per_page", per_page},
          {"count", count},
          {"total_count", total_count},
          {"total_pages", (total_count + per_page - 1) / per_page}};
}

}  // namespace flareq::handlers
