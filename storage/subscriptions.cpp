// Event subscriptions in SQL (see queue_store.hpp). Storage keeps source and
// events as the JSON text the caller gives; it checks only the destination.
#include <string>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/queue_store.hpp"

namespace flareq::storage {
namespace {

#define FLAREQ_SUBSCRIPTION_COLUMNS \
  "subscription_id, name, enabled, source, events, queue_id, created_us, modified_us"

subscription_record read_subscription(statement& s) {
  subscription_record r;
  r.subscription_id = s.column_text(0);
  r.input.name = s.column_text(1);
  r.input.enabled = s.column_int64(2) != 0;
  r.input.source_json = s.column_text(3);
  r.input.events_json = s.column_text(4);
  r.input.queue_id = s.column_text(5);
  r.created_us = s.column_int64(6);
  r.modified_us = s.column_int64(7);
  return r;
}

std::string_view order_column(subscription_order order) {
  switch (order) {
    case subscription_order::name:
      return "name";
    case subscription_order::enabled:
      return "enabled";
    case subscription_order::source:
      return "json_extract(source, '$.type')";
    case subscription_order::created_at:
      break;
  }
  return "created_us";
}

}  // namespace

void queue_store::require_destination(std::string_view account_id, std::string_view queue_id) {
  try {
    require_queue(account_id, queue_id);
  } catch (const store_error& e) {
    if (e.code() != store_errc::queue_not_found) throw;
    throw store_error(
        store_errc::destination_not_found,
        "destination.queue_id " + std::string(queue_id) + " is no queue of this account");
  }
}

subscription_record queue_store::create_subscription(std::string_view account_id,
                                                     const subscription_input& input) {
  require_destination(account_id, input.queue_id);
  std::string id = hex_id(random_);
  std::int64_t now = clock_.now_us();
  auto q = db_.prepare(
      "INSERT INTO subscriptions (account_id, subscription_id, name, enabled, source, events, "
      "queue_id, created_us, modified_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)");
  q->bind(1, account_id)
      .bind(2, id)
      .bind(3, input.name)
      .bind(4, input.enabled ? 1 : 0)
      .bind(5, input.source_json)
      .bind(6, input.events_json)
      .bind(7, input.queue_id)
      .bind(8, now);
  q->run();
  return {id, input, now, now};
}

subscription_page queue_store::list_subscriptions(std::string_view account_id,
                                                  const subscription_query& query) {
  subscription_page out;
  std::string where = " FROM subscriptions WHERE account_id = ?1";
  if (query.queue_id) where += " AND queue_id = ?2";
  auto bind = [&](statement& s) {
    s.bind(1, account_id);
    if (query.queue_id) s.bind(2, *query.queue_id);
  };
  auto count = db_.prepare("SELECT count(*)" + where);
  bind(*count);
  count->step();
  out.total_count = count->column_int64(0);
  std::string direction = query.descending ? " DESC" : " ASC";
  auto q = db_.prepare(std::string("SELECT " FLAREQ_SUBSCRIPTION_COLUMNS) + where + " ORDER BY " +
                       std::string(order_column(query.order)) + direction + ", rowid" + direction +
                       " LIMIT ?3 OFFSET ?4");
  bind(*q);
  q->bind(3, query.per_page).bind(4, (query.page - 1) * query.per_page);
  while (q->step()) out.subscriptions.push_back(read_subscription(*q));
  return out;
}

subscription_record queue_store::get_subscription(std::string_view account_id,
                                                  std::string_view subscription_id) {
  auto q = db_.prepare("SELECT " FLAREQ_SUBSCRIPTION_COLUMNS
                       " FROM subscriptions WHERE account_id = ?1 AND subscription_id = ?2");
  q->bind(1, account_id).bind(2, subscription_id);
  if (!q->step()) {
    throw store_error(
        store_errc::subscription_not_found,
        "no event subscription has id " + std::string(subscription_id) + " in this account");
  }
  return read_subscription(*q);
}

subscription_record queue_store::update_subscription(std::string_view account_id,
                                                     std::string_view subscription_id,
                                                     const subscription_patch& patch) {
  subscription_record r = get_subscription(account_id, subscription_id);
  if (patch.queue_id) require_destination(account_id, *patch.queue_id);
  if (patch.name) r.input.name = *patch.name;
  if (patch.enabled) r.input.enabled = *patch.enabled;
  if (patch.events_json) r.input.events_json = *patch.events_json;
  if (patch.queue_id) r.input.queue_id = *patch.queue_id;
  r.modified_us = clock_.now_us();
  auto q = db_.prepare(
      "UPDATE subscriptions SET name = ?3, enabled = ?4, events = ?5, queue_id = ?6, "
      "modified_us = ?7 WHERE account_id = ?1 AND subscription_id = ?2");
  q->bind(1, account_id)
      .bind(2, subscription_id)
      .bind(3, r.input.name)
      .bind(4, r.input.enabled ? 1 : 0)
      .bind(5, r.input.events_json)
      .bind(6, r.input.queue_id)
      .bind(7, r.modified_us);
  q->run();
  return r;
}

subscription_record queue_store::delete_subscription(std::string_view account_id,
                                                     std::string_view subscription_id) {
  subscription_record r = get_subscription(account_id, subscription_id);
  auto q = db_.prepare("DELETE FROM subscriptions WHERE account_id = ?1 AND subscription_id = ?2");
  q->bind(1, account_id).bind(2, subscription_id);
  q->run();
  return r;
}

}  // namespace flareq::storage
