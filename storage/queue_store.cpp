// Queues, their inspection, reset and provisioning in SQL (see
// queue_store.hpp). Messages and delivery are in delivery.cpp, consumers in
// consumers.cpp, event subscriptions in subscriptions.cpp.
#include "storage/queue_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <utility>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/migrate.hpp"
#include "storage/store_rows.hpp"

namespace flareq::storage {

using rows::optional_column;
using rows::queue_missing;
using rows::read_message;
using rows::read_queue;

std::string_view to_string(content_type type) {
  return type == content_type::text ? "text" : "json";
}

std::string_view to_string(consumer_type type) {
  return type == consumer_type::worker ? "worker" : "http_pull";
}

bool is_valid_queue_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-'; });
}

queue_store::queue_store(database& db, clock& clock, random_source& random, store_options options)
    : db_(db), clock_(clock), random_(random), options_(std::move(options)) {
  if (!options_.declared.empty()) db_.exec("DELETE FROM deleted_declared");
}

// ---- queues ---------------------------------------------------------------

std::optional<queue_record> queue_store::find_queue_row(std::string_view account_id,
                                                        std::string_view queue_id) {
  auto q = db_.prepare("SELECT " FLAREQ_QUEUE_COLUMNS
                       " FROM queues WHERE account_id = ?1 AND queue_id = ?2");
  q->bind(1, account_id).bind(2, queue_id);
  if (!q->step()) return std::nullopt;
  return read_queue(*q);
}

std::optional<queue_record> queue_store::find_queue(std::string_view account_id,
                                                    std::string_view queue_id) {
  std::optional<queue_record> r = find_queue_row(account_id, queue_id);
  if (r) r->consumer = find_consumer(account_id, queue_id);
  return r;
}

std::optional<queue_record> queue_store::find_queue_by_name(std::string_view account_id,
                                                            std::string_view name) {
  auto q = db_.prepare("SELECT queue_id FROM queues WHERE account_id = ?1 AND queue_name = ?2");
  q->bind(1, account_id).bind(2, name);
  if (!q->step()) return std::nullopt;
  std::string id(q->column_text(0));
  return find_queue(account_id, id);
}

void queue_store::ensure_name_free(std::string_view account_id, std::string_view name) {
  if (auto taken = find_queue_by_name(account_id, name)) {
    throw store_error(
        store_errc::queue_name_taken,
        "a queue named " + std::string(name) + " already exists with id " + taken->queue_id);
  }
}

queue_record queue_store::insert_queue(std::string_view account_id, std::string_view queue_id,
                                       std::string_view name, const queue_settings& settings) {
  ensure_name_free(account_id, name);
  std::int64_t now = clock_.now_us();
  auto q = db_.prepare(
      "INSERT INTO queues (account_id, queue_id, queue_name, created_us, modified_us, "
      "delivery_delay, delivery_paused, message_retention_period, qkey) "
      "VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, (SELECT coalesce(max(qkey), 0) + 1 FROM queues)) "
      "RETURNING qkey");
  q->bind(1, account_id)
      .bind(2, queue_id)
      .bind(3, name)
      .bind(4, now)
      .bind(5, settings.delivery_delay)
      .bind(6, settings.delivery_paused ? 1 : 0)
      .bind(7, settings.message_retention_period);
  q->step();
  std::int64_t key = q->column_int64(0);
  q->reset();
  record({.at_ms = clock_.now_ms(),
          .type = event_type::queue_created,
          .account_id = std::string(account_id),
          .queue_id = std::string(queue_id),
          .name = std::string(name)});
  queue_record r;
  r.account_id = account_id;
  r.queue_id = queue_id;
  r.key = key;
  r.queue_name = name;
  r.created_us = now;
  r.modified_us = now;
  r.settings = settings;
  return r;
}

const declared_queue* queue_store::live_declared(std::string_view account_id,
                                                 std::string_view queue_id) {
  for (const declared_queue& d : options_.declared) {
    if (d.id != queue_id) continue;
    auto q = db_.prepare("SELECT 1 FROM deleted_declared WHERE account_id = ?1 AND queue_id = ?2");
    q->bind(1, account_id).bind(2, queue_id);
    return q->step() ? nullptr : &d;
  }
  return nullptr;
}

void queue_store::materialize_declared(std::string_view account_id) {
  for (const declared_queue& d : options_.declared) {
    if (find_queue_row(account_id, d.id) || find_queue_by_name(account_id, d.name)) continue;
    if (live_declared(account_id, d.id) != nullptr) insert_queue(account_id, d.id, d.name, {});
  }
}

std::optional<queue_record> queue_store::materialize(std::string_view account_id,
                                                     std::string_view queue_id) {
  for (const declared_queue& d : options_.declared) {
    if (d.id != queue_id) continue;
    // Deleted through the API in this run: it stays deleted, --lenient too.
    if (live_declared(account_id, queue_id) == nullptr) queue_missing(queue_id);
    // Its name went to another queue (created while it was deleted, say).
    if (auto taken = find_queue_by_name(account_id, d.name)) {
      throw store_error(store_errc::declared_name_taken,
                        "declared queue " + d.name + " (id " + std::string(queue_id) +
                            ") is missing from this account: queue " + taken->queue_id +
                            " has its name; rename or delete that queue");
    }
    return insert_queue(account_id, queue_id, d.name, {});
  }
  return std::nullopt;
}

queue_record queue_store::require_queue(std::string_view account_id, std::string_view queue_id) {
  if (auto q = find_queue(account_id, queue_id)) return *q;
  if (options_.declared.empty()) queue_missing(queue_id);
  // The account's first use: its declared queues come first, so that none
  // loses its name to a queue made below.
  materialize_declared(account_id);
  if (auto q = find_queue(account_id, queue_id)) return *q;
  if (auto q = materialize(account_id, queue_id)) return *q;
  queue_missing(queue_id);
}

queue_record queue_store::resolve_for_push(std::string_view account_id, std::string_view queue_id) {
  // A push needs no consumer: the queue's row alone.
  if (auto q = find_queue_row(account_id, queue_id)) return *q;
  materialize_declared(account_id);
  if (auto q = find_queue_row(account_id, queue_id)) return *q;
  if (auto q = materialize(account_id, queue_id)) return *q;
  if (!options_.lenient) queue_missing(queue_id);
  if (!is_valid_queue_name(queue_id)) {
    throw store_error(store_errc::id_not_a_name,
                      std::string(queue_id) +
                          " is not a valid queue name, so a push does not create a queue of "
                          "that name: create the queue first and push to its id");
  }
  return insert_queue(account_id, queue_id, queue_id, {});
}

queue_record queue_store::create_queue(std::string_view account_id, std::string_view name,
                                       const queue_settings& settings) {
  materialize_declared(account_id);
  return insert_queue(account_id, hex_id(random_), name, settings);
}

queue_page queue_store::list_queues(std::string_view account_id,
                                    const std::vector<std::string>& names, std::int64_t page,
                                    std::int64_t per_page) {
  materialize_declared(account_id);
  queue_page out;
  // Filtering by name stays in SQL via json-free binding: one query per name
  // would lose the order, so the names are checked here instead.
  auto q = db_.prepare("SELECT " FLAREQ_QUEUE_COLUMNS
                       " FROM queues WHERE account_id = ?1 ORDER BY created_us, rowid");
  q->bind(1, account_id);
  std::int64_t first = (page - 1) * per_page;
  std::vector<queue_record> page_rows;
  while (q->step()) {
    std::string_view name = q->column_text(2);
    if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
    if (out.total_count >= first && out.total_count < first + per_page) {
      page_rows.push_back(read_queue(*q));
    }
    out.total_count++;
  }
  for (queue_record& r : page_rows) r.consumer = find_consumer(account_id, r.queue_id);
  out.queues = std::move(page_rows);
  return out;
}

queue_record queue_store::get_queue(std::string_view account_id, std::string_view queue_id) {
  return require_queue(account_id, queue_id);
}

queue_record queue_store::update_queue(std::string_view account_id, std::string_view queue_id,
                                       std::optional<std::string> name,
                                       const queue_settings& settings, bool check_dead_letter) {
  queue_record current = require_queue(account_id, queue_id);
  retention_due_ms_ = 0;  // the retention period may change
  if (name && *name != current.queue_name) {
    ensure_name_free(account_id, *name);
    if (check_dead_letter && current.consumer &&
        current.consumer->input.dead_letter_queue == *name) {
      throw store_error(store_errc::dead_letter_loop,
                        "the queue's consumer has dead_letter_queue " + *name +
                            ": renamed so, the queue would be its own dead-letter queue");
    }
  }
  auto q = db_.prepare(
      "UPDATE queues SET queue_name = ?3, modified_us = ?4, delivery_delay = ?5, "
      "delivery_paused = ?6, message_retention_period = ?7 "
      "WHERE account_id = ?1 AND queue_id = ?2");
  q->bind(1, account_id)
      .bind(2, queue_id)
      .bind(3, name ? std::string_view(*name) : std::string_view(current.queue_name))
      .bind(4, clock_.now_us())
      .bind(5, settings.delivery_delay)
      .bind(6, settings.delivery_paused ? 1 : 0)
      .bind(7, settings.message_retention_period);
  q->run();
  record_queue_updated(account_id, queue_id);
  return require_queue(account_id, queue_id);
}

void queue_store::record_queue_updated(std::string_view account_id, std::string_view queue_id) {
  record({.at_ms = clock_.now_ms(),
          .type = event_type::queue_updated,
          .account_id = std::string(account_id),
          .queue_id = std::string(queue_id)});
}

void queue_store::delete_queue(std::string_view account_id, std::string_view queue_id) {
  require_queue(account_id, queue_id);
  std::int64_t held = current_metrics(account_id, queue_id).backlog_count;
  auto q = db_.prepare("DELETE FROM queues WHERE account_id = ?1 AND queue_id = ?2");
  q->bind(1, account_id).bind(2, queue_id);
  q->run();
  // A declared queue deleted through the API stays deleted for this run.
  if (live_declared(account_id, queue_id) != nullptr) {
    auto gone = db_.prepare(
        "INSERT OR IGNORE INTO deleted_declared (account_id, queue_id) VALUES (?1, ?2)");
    gone->bind(1, account_id).bind(2, queue_id);
    gone->run();
  }
  record({.at_ms = clock_.now_ms(),
          .type = event_type::queue_deleted,
          .account_id = std::string(account_id),
          .queue_id = std::string(queue_id),
          .count = held});
}

queue_record queue_store::purge_queue(std::string_view account_id, std::string_view queue_id) {
  queue_record queue = require_queue(account_id, queue_id);
  auto del = db_.prepare("DELETE FROM messages WHERE qkey = ?1");
  del->bind(1, queue.key);
  del->run();
  std::int64_t deleted = db_.changes();
  record({.at_ms = clock_.now_ms(),
          .type = event_type::purged,
          .account_id = std::string(account_id),
          .queue_id = std::string(queue_id),
          .count = deleted});
  auto mark = db_.prepare(
      "UPDATE queues SET backlog_count = 0, backlog_bytes = 0, purge_started_us = ?2 "
      "WHERE qkey = ?1");
  mark->bind(1, queue.key).bind(2, clock_.now_us());
  mark->run();
  return require_queue(account_id, queue_id);
}

std::optional<std::int64_t> queue_store::purge_started_us(std::string_view account_id,
                                                          std::string_view queue_id) {
  require_queue(account_id, queue_id);
  auto q =
      db_.prepare("SELECT purge_started_us FROM queues WHERE account_id = ?1 AND queue_id = ?2");
  q->bind(1, account_id).bind(2, queue_id);
  q->step();
  return optional_column(*q, 0);
}

std::vector<queue_overview> queue_store::all_queues() {
  std::vector<queue_record> queues;
  {
    auto q = db_.prepare("SELECT " FLAREQ_QUEUE_COLUMNS
                         " FROM queues ORDER BY account_id, created_us, rowid");
    while (q->step()) queues.push_back(read_queue(*q));
  }
  std::vector<queue_overview> out;
  for (queue_record& r : queues) {
    r.consumer = find_consumer(r.account_id, r.queue_id);
    queue_metrics m = metrics(r.account_id, r.queue_id);
    out.push_back({std::move(r), m});
  }
  return out;
}

std::vector<queue_backlog> queue_store::backlogs() {
  // From the counts the triggers keep, and the messages not visible now (an
  // index range per queue): the cost follows the delayed and leased
  // messages, not the backlog. The states as inspect_messages() tells them:
  // ready once visible; else leased while a lease holds it, delayed otherwise.
  std::vector<queue_backlog> out;
  std::vector<std::int64_t> keys;  // each queue's qkey
  {
    auto q = db_.prepare(
        "SELECT account_id, queue_id, backlog_count, backlog_bytes, qkey FROM queues "
        "ORDER BY account_id, queue_id");
    while (q->step()) {
      queue_backlog b;
      b.account_id = q->column_text(0);
      b.queue_id = q->column_text(1);
      b.ready_count = q->column_int64(2);
      b.ready_bytes = q->column_int64(3);
      keys.push_back(q->column_int64(4));
      out.push_back(std::move(b));
    }
  }
  std::int64_t now_ms = clock_.now_ms();
  for (std::size_t i = 0; i < out.size(); ++i) {
    queue_backlog& b = out[i];
    auto hidden = db_.prepare(
        "SELECT lease_id IS NOT NULL, count(*), coalesce(sum(size_bytes), 0) FROM messages "
        "WHERE qkey = ?1 AND visible_at_ms > ?2 GROUP BY 1");
    hidden->bind(1, keys[i]).bind(2, now_ms);
    while (hidden->step()) {
      bool leased = hidden->column_int64(0) != 0;
      (leased ? b.leased_count : b.delayed_count) = hidden->column_int64(1);
      (leased ? b.leased_bytes : b.delayed_bytes) = hidden->column_int64(2);
    }
    b.ready_count -= b.delayed_count + b.leased_count;
    b.ready_bytes -= b.delayed_bytes + b.leased_bytes;
    auto oldest = db_.prepare("SELECT min(timestamp_ms) FROM messages WHERE qkey = ?1");
    oldest->bind(1, keys[i]);
    if (oldest->step() && !oldest->column_is_null(0))
      b.oldest_timestamp_ms = oldest->column_int64(0);
  }
  return out;
}

storage_footprint queue_store::footprint() {
  storage_footprint out;
  if (db_.path() == ":memory:") {
    auto pages =
        db_.prepare("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size");
    pages->step();
    out.file_bytes = pages->column_int64(0);
    return out;
  }
  struct stat st {};
  if (::stat(db_.path().c_str(), &st) == 0) out.file_bytes = st.st_size;
  std::string wal = db_.wal_path();
  if (!wal.empty() && ::stat(wal.c_str(), &st) == 0) out.wal_bytes = st.st_size;
  return out;
}

message_page queue_store::inspect_messages(std::string_view account_id, std::string_view queue_id,
                                           std::int64_t page, std::int64_t per_page,
                                           std::optional<message_state> only) {
  message_page out;
  out.total_count = metrics(account_id, queue_id).backlog_count;
  // The states as below: ready once visible; else leased or delayed.
  std::string where = "qkey = " FLAREQ_QKEY("?1", "?2");
  if (only == message_state::ready) where += " AND visible_at_ms <= ?5";
  if (only == message_state::delayed) where += " AND visible_at_ms > ?5 AND lease_id IS NULL";
  if (only == message_state::leased) where += " AND visible_at_ms > ?5 AND lease_id IS NOT NULL";
  std::int64_t now_ms = clock_.now_ms();
  if (only) {
    auto n = db_.prepare("SELECT count(*) FROM messages WHERE " + where);
    n->bind(1, account_id).bind(2, queue_id).bind(5, now_ms);
    n->step();
    out.total_count = n->column_int64(0);
  }
  auto q =
      db_.prepare("SELECT " FLAREQ_MESSAGE_COLUMNS ", lease_id IS NOT NULL FROM messages WHERE " +
                  where + " ORDER BY seq LIMIT ?3 OFFSET ?4");
  q->bind(1, account_id).bind(2, queue_id).bind(3, per_page).bind(4, (page - 1) * per_page);
  if (only) q->bind(5, now_ms);
  while (q->step()) {
    message_record m = read_message(*q, account_id, queue_id);
    message_state state = m.visible_at_ms <= now_ms  ? message_state::ready
                          : q->column_int64(10) != 0 ? message_state::leased
                                                     : message_state::delayed;
    out.messages.push_back({std::move(m), state});
  }
  return out;
}

reset_counts queue_store::reset() {
  reset_counts out;
  auto count = [&](std::string_view sql) {
    auto q = db_.prepare(sql);
    q->step();
    return q->column_int64(0);
  };
  out.queues = count("SELECT count(*) FROM queues");
  out.messages = count("SELECT count(*) FROM messages");
  db_.exec(
      "DELETE FROM subscriptions; DELETE FROM messages; DELETE FROM consumers; DELETE FROM "
      "queues;");
  record({.at_ms = clock_.now_ms(), .type = event_type::reset, .count = out.messages});
  return out;
}

void queue_store::provision(const account_spec& account) {
  materialize_declared(account.id);
  retention_due_ms_ = 0;
  // The queues first, then the consumers: a consumer's dead-letter queue may
  // be a queue the file lists after it (with its fixed id).
  std::vector<queue_record> made;
  for (const queue_spec& spec : account.queues) {
    std::optional<queue_record> queue = spec.id.empty() ? find_queue_by_name(account.id, spec.name)
                                                        : find_queue(account.id, spec.id);
    if (!queue) {
      made.push_back(insert_queue(account.id, spec.id.empty() ? hex_id(random_) : spec.id,
                                  spec.name, spec.settings));
      continue;
    }
    // A rename is checked against the file's consumer, not the one it replaces.
    if (spec.consumer && spec.consumer->dead_letter_queue == spec.name) {
      throw store_error(store_errc::dead_letter_loop,
                        "queue " + spec.name + ": dead_letter_queue is the queue itself");
    }
    made.push_back(update_queue(account.id, queue->queue_id, spec.name, spec.settings,
                                /*check_dead_letter=*/!spec.consumer));
  }
  for (std::size_t i = 0; i < account.queues.size(); ++i) {
    const queue_spec& spec = account.queues[i];
    if (!spec.consumer) continue;
    std::optional<consumer_record> current = find_consumer(account.id, made[i].queue_id);
    write_consumer(account.id, made[i], current ? current->consumer_id : hex_id(random_),
                   *spec.consumer, current ? current->created_us : clock_.now_us());
  }
}

bool queue_store::ready() {
  return schema_version(db_) == latest_schema_version();
}

}  // namespace flareq::storage
