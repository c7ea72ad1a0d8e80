// Storage outcomes as API errors (see common.hpp).
#include "server/handlers/common.hpp"

#include <string>

namespace flareq::handlers {

void rethrow_store_error(const storage::store_error& e, plane p) {
  using storage::store_errc;
  switch (e.code()) {
    case store_errc::queue_not_found:
      if (p == plane::control) throw api_error(errc::queue_not_found);
      // Pushing by queue name, or to a queue never created, is the usual cause.
      throw api_error(errc::queue_does_not_exist,
                      std::string(e.what()) +
                          " (the URL takes a queue's id, not its name). Create the queue "
                          "(POST /accounts/{account_id}/queues, or wrangler queues create) and "
                          "use the queue_id it returns, declare it at start-up (--queue "
                          "NAME=ID, or the config file), or run flareq with --lenient to create "
                          "queues on their first push");
    case store_errc::queue_name_taken:
      throw api_error(errc::queue_name_taken, e.what());
    case store_errc::consumer_not_found:
      throw api_error(errc::consumer_not_found);
    case store_errc::consumer_exists:
      throw api_error(errc::consumer_exists, e.what());
    case store_errc::delivery_paused:
      throw api_error(errc::delivery_paused);
    case store_errc::id_not_a_name:
      throw api_error(errc::queue_does_not_exist, e.what());
    case store_errc::subscription_not_found:
      throw api_error(errc::subscription_not_found, e.what());
    case store_errc::destination_not_found:
      throw api_error(errc::queue_not_found, e.what());
    case store_errc::declared_name_taken:
      throw api_error(p == plane::message ? errc::queue_does_not_exist : errc::queue_not_found,
                      e.what());
    case store_errc::dead_letter_loop:
      throw api_error(errc::consumer_settings_invalid, e.what());
    case store_errc::snapshot_not_found:
      throw api_error(errc::snapshot_not_found, e.what());
    case store_errc::snapshot_unusable:
      throw api_error(errc::snapshot_unusable, e.what());
    case store_errc::no_pull_consumer:
      throw api_error(errc::method_not_allowed,
                      "pull needs an http_pull consumer on the queue, as on Cloudflare: add one "
                      "(POST .../queues/{queue_id}/consumers {\"type\": \"http_pull\"}, or "
                      "wrangler queues consumer http add), or run flareq with --lenient");
  }
  throw api_error(errc::internal, e.what());
}

}  // namespace flareq::handlers
