// Queue and message operations in SQL (see queue_store.hpp).
#include "storage/queue_store.hpp"

#include <utility>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/migrate.hpp"

namespace flareq::storage {

std::string_view to_string(content_type type) {
  return type == content_type::text ? "text" : "json";
}

queue_store::queue_store(database& db, clock& clock, random_source& random, store_options options)
    : db_(db), clock_(clock), random_(random), options_(std::move(options)) {}

std::optional<queue_store::queue_row> queue_store::find_queue(std::string_view account_id,
                                                              std::string_view queue_id) {
  auto q = db_.prepare("SELECT delivery_delay FROM queues WHERE account_id = ?1 AND queue_id = ?2");
  q->bind(1, account_id).bind(2, queue_id);
  if (!q->step()) return std::nullopt;
  return queue_row{q->column_int64(0)};
}

queue_store::queue_row queue_store::create_queue(std::string_view account_id,
                                                 std::string_view queue_id, std::string_view name) {
  auto taken = db_.prepare("SELECT queue_id FROM queues WHERE account_id = ?1 AND queue_name = ?2");
  taken->bind(1, account_id).bind(2, name);
  if (taken->step()) {
    throw store_error(store_errc::queue_name_taken, "a queue named " + std::string(name) +
                                                        " already exists with id " +
                                                        std::string(taken->column_text(0)));
  }
  std::int64_t now = clock_.now_us();
  auto q = db_.prepare(
      "INSERT INTO queues (account_id, queue_id, queue_name, created_us, modified_us) "
      "VALUES (?1, ?2, ?3, ?4, ?4)");
  q->bind(1, account_id).bind(2, queue_id).bind(3, name).bind(4, now);
  q->run();
  return queue_row{};
}

queue_store::queue_row queue_store::resolve_for_push(std::string_view account_id,
                                                     std::string_view queue_id) {
  if (auto row = find_queue(account_id, queue_id)) return *row;
  for (const declared_queue& d : options_.declared) {
    if (d.id == queue_id) return create_queue(account_id, queue_id, d.name);
  }
  if (options_.create_on_push) return create_queue(account_id, queue_id, queue_id);
  throw store_error(store_errc::queue_not_found, "queue " + std::string(queue_id) + " not found");
}

queue_metrics queue_store::push(std::string_view account_id, std::string_view queue_id,
                                std::span<const new_message> messages) {
  queue_row queue = resolve_for_push(account_id, queue_id);
  std::int64_t now_ms = clock_.now_ms();
  auto insert = db_.prepare(
      "INSERT INTO messages (id, account_id, queue_id, content_type, body, size_bytes, "
      "timestamp_ms, delay_seconds, visible_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  for (const new_message& m : messages) {
    std::int64_t delay = m.delay_seconds.value_or(queue.delivery_delay);
    std::string id = hex_id(random_);
    insert->bind(1, id)
        .bind(2, account_id)
        .bind(3, queue_id)
        .bind(4, to_string(m.type))
        .bind(5, m.body)
        .bind(6, message_size(m.body))
        .bind(7, now_ms)
        .bind(8, delay)
        .bind(9, now_ms + delay * 1000);
    insert->run();
    insert->reset();
  }
  return metrics(account_id, queue_id);
}

queue_metrics queue_store::metrics(std::string_view account_id, std::string_view queue_id) {
  auto counts = db_.prepare(
      "SELECT backlog_count, backlog_bytes FROM queues WHERE account_id = ?1 AND queue_id = ?2");
  counts->bind(1, account_id).bind(2, queue_id);
  if (!counts->step()) {
    throw store_error(store_errc::queue_not_found, "queue " + std::string(queue_id) + " not found");
  }
  queue_metrics m;
  m.backlog_count = counts->column_int64(0);
  m.backlog_bytes = counts->column_int64(1);
  auto oldest =
      db_.prepare("SELECT min(timestamp_ms) FROM messages WHERE account_id = ?1 AND queue_id = ?2");
  oldest->bind(1, account_id).bind(2, queue_id);
  if (oldest->step() && !oldest->column_is_null(0)) {
    m.oldest_message_timestamp_ms = oldest->column_int64(0);
  }
  return m;
}

std::vector<message_record> queue_store::messages(std::string_view account_id,
                                                  std::string_view queue_id) {
  auto q = db_.prepare(
      "SELECT id, content_type, body, size_bytes, timestamp_ms, delay_seconds, visible_at_ms, "
      "attempts FROM messages WHERE account_id = ?1 AND queue_id = ?2 ORDER BY seq");
  q->bind(1, account_id).bind(2, queue_id);
  std::vector<message_record> out;
  while (q->step()) {
    message_record r;
    r.id = q->column_text(0);
    r.account_id = account_id;
    r.queue_id = queue_id;
    r.type = q->column_text(1) == "text" ? content_type::text : content_type::json;
    r.body = q->column_text(2);
    r.size_bytes = q->column_int64(3);
    r.timestamp_ms = q->column_int64(4);
    r.delay_seconds = q->column_int64(5);
    r.visible_at_ms = q->column_int64(6);
    r.attempts = q->column_int64(7);
    out.push_back(std::move(r));
  }
  return out;
}

bool queue_store::ready() {
  return schema_version(db_) == latest_schema_version();
}

}  // namespace flareq::storage
