// Consumers in SQL (see queue_store.hpp): one per queue, its dead-letter
// queue created when missing and never the queue itself.
#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/queue_store.hpp"
#include "storage/store_rows.hpp"

namespace flareq::storage {

using rows::bind_optional;
using rows::optional_column;

// ---- consumers ------------------------------------------------------------

std::optional<consumer_record> queue_store::find_consumer(std::string_view account_id,
                                                          std::string_view queue_id) {
  auto q = db_.prepare(
      "SELECT c.consumer_id, c.type, c.script_name, c.dead_letter_queue, c.batch_size, "
      "c.max_concurrency, c.max_retries, c.max_wait_time_ms, c.retry_delay, "
      "c.visibility_timeout_ms, c.created_us, q.queue_name FROM consumers c JOIN queues q "
      "USING (account_id, queue_id) WHERE c.account_id = ?1 AND c.queue_id = ?2");
  q->bind(1, account_id).bind(2, queue_id);
  if (!q->step()) return std::nullopt;
  consumer_record c;
  c.consumer_id = q->column_text(0);
  c.queue_id = queue_id;
  c.input.type = q->column_text(1) == "worker" ? consumer_type::worker : consumer_type::http_pull;
  c.input.script_name = q->column_text(2);
  c.input.dead_letter_queue = q->column_text(3);
  c.input.settings.batch_size = optional_column(*q, 4);
  c.input.settings.max_concurrency = optional_column(*q, 5);
  c.input.settings.max_retries = optional_column(*q, 6);
  c.input.settings.max_wait_time_ms = optional_column(*q, 7);
  c.input.settings.retry_delay = optional_column(*q, 8);
  c.input.settings.visibility_timeout_ms = optional_column(*q, 9);
  c.created_us = q->column_int64(10);
  c.queue_name = q->column_text(11);
  return c;
}

void queue_store::write_consumer(std::string_view account_id, const queue_record& queue,
                                 std::string_view consumer_id, const consumer_input& input,
                                 std::int64_t created_us) {
  if (input.dead_letter_queue == queue.queue_name) {
    throw store_error(store_errc::dead_letter_loop,
                      "dead_letter_queue is the consumer's own queue (" + queue.queue_name +
                          "): its failed messages would come back to it");
  }
  // A declared queue of the dead-letter queue's name is that queue.
  if (!input.dead_letter_queue.empty()) materialize_declared(account_id);
  if (!input.dead_letter_queue.empty() &&
      !find_queue_by_name(account_id, input.dead_letter_queue)) {
    insert_queue(account_id, hex_id(random_), input.dead_letter_queue, {});
  }
  // Never INSERT OR REPLACE: its conflict on UNIQUE (account_id,
  // consumer_id) would delete another queue's consumer.
  auto q = db_.prepare(
      find_consumer(account_id, queue.queue_id)
          ? "UPDATE consumers SET consumer_id = ?3, type = ?4, script_name = ?5, "
            "dead_letter_queue = ?6, batch_size = ?7, max_concurrency = ?8, max_retries = ?9, "
            "max_wait_time_ms = ?10, retry_delay = ?11, visibility_timeout_ms = ?12, "
            "created_us = ?13 WHERE account_id = ?1 AND queue_id = ?2"
          : "INSERT INTO consumers (account_id, queue_id, consumer_id, type, script_name, "
            "dead_letter_queue, batch_size, max_concurrency, max_retries, max_wait_time_ms, "
            "retry_delay, visibility_timeout_ms, created_us) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  q->bind(1, account_id)
      .bind(2, queue.queue_id)
      .bind(3, consumer_id)
      .bind(4, to_string(input.type))
      .bind(5, input.script_name)
      .bind(6, input.dead_letter_queue);
  bind_optional(*q, 7, input.settings.batch_size);
  bind_optional(*q, 8, input.settings.max_concurrency);
  bind_optional(*q, 9, input.settings.max_retries);
  bind_optional(*q, 10, input.settings.max_wait_time_ms);
  bind_optional(*q, 11, input.settings.retry_delay);
  bind_optional(*q, 12, input.settings.visibility_timeout_ms);
  q->bind(13, created_us);
  q->run();
  record_queue_updated(account_id, queue.queue_id);
}

consumer_record queue_store::create_consumer(std::string_view account_id, std::string_view queue_id,
                                             const consumer_input& input) {
  queue_record queue = require_queue(account_id, queue_id);
  if (queue.consumer) {
    throw store_error(store_errc::consumer_exists,
                      "the queue has consumer " + queue.consumer->consumer_id + " already");
  }
  write_consumer(account_id, queue, hex_id(random_), input, clock_.now_us());
  return *find_consumer(account_id, queue_id);
}

std::vector<consumer_record> queue_store::list_consumers(std::string_view account_id,
                                                         std::string_view queue_id) {
  queue_record queue = require_queue(account_id, queue_id);
  std::vector<consumer_record> out;
  if (queue.consumer) out.push_back(*queue.consumer);
  return out;
}

consumer_record queue_store::get_consumer(std::string_view account_id, std::string_view queue_id,
                                          std::string_view consumer_id) {
  queue_record queue = require_queue(account_id, queue_id);
  if (!queue.consumer || queue.consumer->consumer_id != consumer_id) {
    throw store_error(store_errc::consumer_not_found,
                      "consumer " + std::string(consumer_id) + " not found");
  }
  return *queue.consumer;
}

consumer_record queue_store::put_consumer(std::string_view account_id, std::string_view queue_id,
                                          std::string_view consumer_id,
                                          const consumer_input& input) {
  queue_record queue = require_queue(account_id, queue_id);
  std::int64_t created = clock_.now_us();
  if (queue.consumer) {
    if (queue.consumer->consumer_id != consumer_id) {
      throw store_error(store_errc::consumer_exists,
                        "the queue has consumer " + queue.consumer->consumer_id + " already");
    }
    created = queue.consumer->created_us;
  } else {
    auto owner =
        db_.prepare("SELECT queue_id FROM consumers WHERE account_id = ?1 AND consumer_id = ?2");
    owner->bind(1, account_id).bind(2, consumer_id);
    if (owner->step()) {
      throw store_error(store_errc::consumer_exists, "consumer id " + std::string(consumer_id) +
                                                         " belongs to queue " +
                                                         std::string(owner->column_text(0)));
    }
  }
  write_consumer(account_id, queue, consumer_id, input, created);
  return *find_consumer(account_id, queue_id);
}

void queue_store::delete_consumer(std::string_view account_id, std::string_view queue_id,
                                  std::string_view consumer_id) {
  get_consumer(account_id, queue_id, consumer_id);
  auto q = db_.prepare("DELETE FROM consumers WHERE account_id = ?1 AND queue_id = ?2");
  q->bind(1, account_id).bind(2, queue_id);
  q->run();
  record_queue_updated(account_id, queue_id);
}

}  // namespace flareq::storage
