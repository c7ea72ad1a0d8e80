// The wire form of what the control plane returns: queues, consumers,
// metrics, and result_info for one page of a list.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>

#include "storage/queue_store.hpp"

namespace flareq::handlers {

boost::json::value queue_json(const storage::queue_record& q);
// embedded: as the queue object shows it (with "script" beside "script_name").
boost::json::value consumer_json(const storage::consumer_record& c, bool embedded);
boost::json::value metrics_json(const storage::queue_metrics& m);

// The envelope's result_info for one page of a list.
boost::json::value page_info(std::int64_t page, std::int64_t per_page, std::size_t count,
                             std::int64_t total_count);

}  // namespace flareq::handlers
