// The journal in SQL (see queue_store.hpp): one row per state change, in
// the same transaction as the change itself (so in the same group commit),
// and the sweep that journals what time makes due. Runs on the writer
// thread like the rest of queue_store.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <utility>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/queue_store.hpp"
#include "storage/store_rows.hpp"

namespace flareq::storage {
namespace {

constexpr std::array<std::pair<event_type, std::string_view>, 16> event_names = {{
    {event_type::pushed, "pushed"},
    {event_type::ready, "ready"},
    {event_type::leased, "leased"},
    {event_type::acked, "acked"},
    {event_type::retried, "retried"},
    {event_type::lease_expired, "lease_expired"},
    {event_type::dead_lettered, "dead_lettered"},
    {event_type::discarded, "discarded"},
    {event_type::expired, "expired"},
    {event_type::purged, "purged"},
    {event_type::queue_deleted, "queue_deleted"},
    {event_type::reset, "reset"},
    {event_type::snapshot_restored, "snapshot_restored"},
    {event_type::queue_created, "queue_created"},
    {event_type::queue_updated, "queue_updated"},
    {event_type::clock_moved, "clock_moved"},
}};

event_type event_type_of(std::string_view name) {
  for (const auto& [type, text] : event_names) {
    if (text == name) return type;
  }
  return event_type::pushed;  // not reached: only these names are written
}

}  // namespace

std::string_view to_string(event_type type) {
  for (const auto& [t, text] : event_names) {
    if (t == type) return text;
  }
  return "unknown";
}

bool queue_store::journal_room() {
  if (options_.push_page_limit <= 0) return true;
  // Under --max-db-bytes the journal yields to messages: past two thirds of
  // the pages pushes may use, its oldest events go first, and while it is
  // empty and the pages still in use, events are not recorded.
  std::int64_t limit = options_.push_page_limit * 2 / 3;
  while (pages_in_use() >= limit) {
    // The newest stays, so that ids go on from it and never name two events.
    auto drop = db_.prepare(
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id < "
        "(SELECT max(id) FROM events) ORDER BY id LIMIT 1000)");
    drop->run();
    journal_first_ = -1;
    if (db_.changes() == 0) return false;
  }
  return true;
}

void queue_store::record(const journal_event& e) {
  if (options_.count_changes) {
    bool whole = e.type == event_type::purged || e.type == event_type::queue_deleted ||
                 e.type == event_type::reset;
    changes_.push_back({e.type, e.account_id, e.queue_id, whole ? e.count.value_or(1) : 1});
  }
  if (options_.journal_size <= 0 || !journal_room()) return;
  auto insert = db_.prepare(
      "INSERT INTO events (at_ms, type, account_id, queue_id, message_id, lease_id, attempt, "
      "delay_seconds, until_ms, to_queue_id, count, name) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  insert->bind(1, e.at_ms)
      .bind(2, to_string(e.type))
      .bind(3, e.account_id)
      .bind(4, e.queue_id)
      .bind(5, e.message_id);
  rows::bind_optional(*insert, 6, e.lease_id);
  rows::bind_optional(*insert, 7, e.attempt);
  rows::bind_optional(*insert, 8, e.delay_seconds);
  rows::bind_optional(*insert, 9, e.until_ms);
  rows::bind_optional(*insert, 10, e.to_queue_id);
  rows::bind_optional(*insert, 11, e.count);
  rows::bind_optional(*insert, 12, e.name);
  insert->run();
  recorded_ = true;
  std::int64_t id = sqlite3_last_insert_rowid(db_.handle());
  if (journal_first_ < 0) {
    auto first = db_.prepare("SELECT min(id) FROM events");
    first->step();
    journal_first_ = first->column_int64(0);
  }
  // Ids grow by one, so the oldest kept is id - size + 1. Trimmed in steps
  // of 1 % of the size, not one row per event. (A rolled-back job may leave
  // journal_first_ ahead: the next trim catches up.)
  std::int64_t step = std::max<std::int64_t>(1, options_.journal_size / 100);
  if (id - journal_first_ >= options_.journal_size - 1 + step) {
    auto trim = db_.prepare("DELETE FROM events WHERE id <= ?1");
    trim->bind(1, id - options_.journal_size);
    trim->run();
    journal_first_ = id - options_.journal_size + 1;
  }
}

void queue_store::sweep_due() {
  std::int64_t now_ms = clock_.now_ms();
  auto due = db_.prepare(
      "SELECT m.seq, m.id_tail, m.legacy_id, q.account_id, q.queue_id, m.watch, m.lease_id, "
      "m.attempts, m.visible_at_ms FROM messages m JOIN queues q USING (qkey) "
      "WHERE m.watch IS NOT NULL AND m.visible_at_ms <= ?1 ORDER BY m.visible_at_ms, m.seq");
  due->bind(1, now_ms);
  std::vector<std::pair<std::int64_t, journal_event>> found;
  while (due->step()) {
    journal_event e;
    e.at_ms = due->column_int64(8);
    e.account_id = due->column_text(3);
    e.queue_id = due->column_text(4);
    e.message_id = rows::read_message_id(*due, 0);
    if (due->column_int64(5) == 2) {
      e.type = event_type::lease_expired;
      if (!due->column_is_null(6))
        e.lease_id = e.message_id + "." + std::string(due->column_text(6));
      e.attempt = due->column_int64(7);
    } else {
      e.type = event_type::ready;
    }
    found.emplace_back(due->column_int64(0), std::move(e));
  }
  due->reset();
  if (found.empty()) return;
  auto clear = db_.prepare("UPDATE messages SET watch = NULL WHERE seq = ?1");
  for (const auto& [seq, e] : found) {
    record(e);
    clear->bind(1, seq);
    clear->run();
    clear->reset();
  }
}

namespace {

// When a queue's oldest message passes its retention period.
constexpr std::string_view oldest_due =
    "(SELECT min(timestamp_ms) FROM messages m WHERE m.qkey = q.qkey) + "
    "q.message_retention_period * 1000";

}  // namespace

bool queue_store::retention_may_be_due(std::int64_t now_ms) {
  if (retention_due_ms_ == 0) {
    auto next = db_.prepare("SELECT min(" + std::string(oldest_due) +
                            ") FROM queues q WHERE backlog_count > 0");
    next->step();
    retention_due_ms_ =
        next->column_is_null(0) ? std::numeric_limits<std::int64_t>::max() : next->column_int64(0);
  }
  return now_ms > retention_due_ms_;
}

std::int64_t queue_store::sweep() {
  std::int64_t before = last_event_id();
  sweep_due();
  // Retention: only when the earliest message to pass it may have, and only
  // in the queues that hold such a message, so that an idle server does no
  // work per queue.
  std::int64_t now_ms = clock_.now_ms();
  if (retention_may_be_due(now_ms)) {
    std::vector<queue_record> due;
    {
      auto q = db_.prepare(
          "SELECT account_id, queue_id, message_retention_period, qkey FROM queues q "
          "WHERE backlog_count > 0 AND " +
          std::string(oldest_due) + " < ?1");
      q->bind(1, now_ms);
      while (q->step()) {
        queue_record r;
        r.account_id = q->column_text(0);
        r.queue_id = q->column_text(1);
        r.settings.message_retention_period = q->column_int64(2);
        r.key = q->column_int64(3);
        due.push_back(std::move(r));
      }
    }
    for (const queue_record& queue : due) expire(queue, now_ms);
    retention_due_ms_ = 0;  // looked up again at the next use
  }
  return last_event_id() - before;
}

std::int64_t queue_store::last_event_id() {
  auto q = db_.prepare("SELECT coalesce(max(id), 0) FROM events");
  q->step();
  return q->column_int64(0);
}

std::vector<journal_event> queue_store::events(const event_query& query) {
  auto q = db_.prepare(
      "SELECT id, at_ms, type, account_id, queue_id, message_id, lease_id, attempt, "
      "delay_seconds, until_ms, to_queue_id, count, name FROM events "
      "WHERE id > ?1 AND (?2 = '' OR account_id = ?2) AND (?3 = '' OR queue_id = ?3) "
      "AND (?4 = '' OR message_id = ?4) ORDER BY id LIMIT ?5");
  q->bind(1, query.after)
      .bind(2, query.account_id)
      .bind(3, query.queue_id)
      .bind(4, query.message_id)
      .bind(5, query.limit);
  std::vector<journal_event> out;
  while (q->step()) {
    journal_event e;
    e.id = q->column_int64(0);
    e.at_ms = q->column_int64(1);
    e.type = event_type_of(q->column_text(2));
    e.account_id = q->column_text(3);
    e.queue_id = q->column_text(4);
    e.message_id = q->column_text(5);
    e.lease_id = rows::optional_text(*q, 6);
    e.attempt = rows::optional_column(*q, 7);
    e.delay_seconds = rows::optional_column(*q, 8);
    e.until_ms = rows::optional_column(*q, 9);
    e.to_queue_id = rows::optional_text(*q, 10);
    e.count = rows::optional_column(*q, 11);
    e.name = rows::optional_text(*q, 12);
    out.push_back(std::move(e));
  }
  return out;
}

void queue_store::record_clock_moved() {
  record({.at_ms = clock_.now_ms(), .type = event_type::clock_moved});
}

}  // namespace flareq::storage
