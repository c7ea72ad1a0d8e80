// Messages and their delivery in SQL (see queue_store.hpp): push, metrics,
// retention, pull and leases, ack and retry, dead-lettering, peek and
// message purge. The lease rules are those of decisions.md (Pull, ack,
// retry); tests/unit/storage/delivery_test and lease_property_test hold them.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/queue_store.hpp"
#include "storage/store_rows.hpp"

namespace flareq::storage {
namespace {

constexpr std::string_view ref_prefix = "ref-";

bool is_hex32(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

using rows::queue_missing;
using rows::read_message;

std::optional<std::string> lease_message_id(std::string_view lease_id) {
  auto dot = lease_id.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string_view id = lease_id.substr(0, dot);
  std::string_view nonce = lease_id.substr(dot + 1);
  if (!is_hex32(id) || !is_hex32(nonce)) return std::nullopt;
  return std::string(id);
}

std::string message_ref(std::string_view message_id) {
  return std::string(ref_prefix) + std::string(message_id);
}

std::optional<std::string> ref_message_id(std::string_view ref) {
  if (!ref.starts_with(ref_prefix)) return std::nullopt;
  std::string_view id = ref.substr(ref_prefix.size());
  if (!is_hex32(id)) return std::nullopt;
  return std::string(id);
}

// ---- messages -------------------------------------------------------------

std::int64_t queue_store::pages_in_use() {
  auto q = db_.prepare(
      "SELECT (SELECT page_count FROM pragma_page_count()) - "
      "(SELECT freelist_count FROM pragma_freelist_count())");
  q->step();
  return q->column_int64(0);
}

void queue_store::expire(const queue_record& queue, std::int64_t now_ms) {
  if (!retention_may_be_due(now_ms)) return;
  std::int64_t retention_ms = queue.settings.message_retention_period * 1000;
  auto q = db_.prepare(
      "DELETE FROM messages WHERE qkey = ?1 AND timestamp_ms < ?2 "
      "RETURNING seq, id_tail, legacy_id, timestamp_ms, size_bytes");
  q->bind(1, queue.key).bind(2, now_ms - retention_ms);
  std::vector<journal_event> gone;
  std::int64_t gone_bytes = 0;
  while (q->step()) {
    gone_bytes += q->column_int64(4);
    gone.push_back({.at_ms = q->column_int64(3) + retention_ms,
                    .type = event_type::expired,
                    .account_id = queue.account_id,
                    .queue_id = queue.queue_id,
                    .message_id = rows::read_message_id(*q, 0)});
  }
  q->reset();
  if (!gone.empty())
    adjust_backlog(queue.key, -static_cast<std::int64_t>(gone.size()), -gone_bytes);
  for (const journal_event& e : gone) record(e);
}

void queue_store::adjust_backlog(std::int64_t qkey, std::int64_t count, std::int64_t bytes) {
  auto q = db_.prepare(
      "UPDATE queues SET backlog_count = backlog_count + ?2, backlog_bytes = backlog_bytes + ?3 "
      "WHERE qkey = ?1");
  q->bind(1, qkey).bind(2, count).bind(3, bytes);
  q->run();
}

queue_metrics queue_store::push(std::string_view account_id, std::string_view queue_id,
                                std::span<const new_message> messages) {
  if (options_.push_page_limit > 0) {
    if (pages_in_use() >= options_.push_page_limit) {
      throw database_error(SQLITE_FULL,
                           "database or disk is full: pushes stop at a third of --max-db-bytes, so "
                           "that pull, ack and purge still work");
    }
  }
  if (options_.push_wal_limit > 0) {
    struct stat st {};
    std::string wal = db_.wal_path();
    if (!wal.empty() && ::stat(wal.c_str(), &st) == 0 && st.st_size > options_.push_wal_limit) {
      throw database_error(SQLITE_FULL,
                           "database or disk is full: the WAL is past its share of "
                           "--max-db-bytes (another program's open read transaction keeps it "
                           "from being checkpointed)");
    }
  }
  queue_record queue = resolve_for_push(account_id, queue_id);
  std::int64_t now_ms = clock_.now_ms();
  expire(queue, now_ms);
  if (retention_due_ms_ != 0) {
    retention_due_ms_ =
        std::min(retention_due_ms_, now_ms + queue.settings.message_retention_period * 1000);
  }
  auto insert = db_.prepare(
      "INSERT INTO messages (qkey, id_tail, content_type, body, size_bytes, timestamp_ms, "
      "delay_seconds, visible_at_ms, watch) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, iif(?7 > 0, 1, NULL))");
  std::int64_t pushed_bytes = 0;
  for (const new_message& m : messages) {
    std::int64_t delay = m.delay_seconds.value_or(queue.settings.delivery_delay);
    std::int64_t tail = random_id_tail(random_);
    std::int64_t size = message_size(m.body);
    pushed_bytes += size;
    insert->bind(1, queue.key)
        .bind(2, tail)
        .bind(3, to_string(m.type))
        .bind(4, m.body)
        .bind(5, size)
        .bind(6, now_ms)
        .bind(7, delay)
        .bind(8, now_ms + delay * 1000);
    insert->run();
    insert->reset();
    std::string id = message_id(sqlite3_last_insert_rowid(db_.handle()), tail);
    record({.at_ms = now_ms,
            .type = event_type::pushed,
            .account_id = std::string(account_id),
            .queue_id = std::string(queue_id),
            .message_id = id,
            .delay_seconds = delay,
            .until_ms = now_ms + delay * 1000});
  }
  adjust_backlog(queue.key, static_cast<std::int64_t>(messages.size()), pushed_bytes);
  return current_metrics(account_id, queue_id);
}

queue_metrics queue_store::metrics(std::string_view account_id, std::string_view queue_id) {
  queue_record queue = require_queue(account_id, queue_id);
  expire(queue, clock_.now_ms());
  return current_metrics(account_id, queue_id);
}

queue_metrics queue_store::current_metrics(std::string_view account_id, std::string_view queue_id) {
  auto counts = db_.prepare(
      "SELECT backlog_count, backlog_bytes, qkey FROM queues "
      "WHERE account_id = ?1 AND queue_id = ?2");
  counts->bind(1, account_id).bind(2, queue_id);
  if (!counts->step()) queue_missing(queue_id);
  queue_metrics m;
  m.backlog_count = counts->column_int64(0);
  m.backlog_bytes = counts->column_int64(1);
  std::int64_t key = counts->column_int64(2);
  counts->reset();
  if (m.backlog_count == 0) return m;
  auto oldest = db_.prepare("SELECT min(timestamp_ms) FROM messages WHERE qkey = ?1");
  oldest->bind(1, key);
  if (oldest->step() && !oldest->column_is_null(0)) {
    m.oldest_message_timestamp_ms = oldest->column_int64(0);
  }
  return m;
}

std::vector<message_record> queue_store::messages(std::string_view account_id,
                                                  std::string_view queue_id) {
  auto q = db_.prepare("SELECT " FLAREQ_MESSAGE_COLUMNS
                       " FROM messages WHERE qkey = " FLAREQ_QKEY("?1", "?2") " ORDER BY seq");
  q->bind(1, account_id).bind(2, queue_id);
  std::vector<message_record> out;
  while (q->step()) out.push_back(read_message(*q, account_id, queue_id));
  return out;
}

void queue_store::dead_letter(std::string_view account_id, std::int64_t seq,
                              const std::optional<consumer_record>& consumer) {
  journal_event e{.at_ms = clock_.now_ms(), .type = event_type::discarded};
  std::int64_t pushed_ms = 0, from_key = 0, size = 0;
  {
    auto about = db_.prepare(
        "SELECT m.seq, m.id_tail, m.legacy_id, q.account_id, q.queue_id, m.attempts, "
        "m.timestamp_ms, m.qkey, m.size_bytes FROM messages m JOIN queues q USING (qkey) "
        "WHERE m.seq = ?1");
    about->bind(1, seq);
    if (about->step()) {
      e.message_id = rows::read_message_id(*about, 0);
      e.account_id = about->column_text(3);
      e.queue_id = about->column_text(4);
      e.attempt = about->column_int64(5);
      pushed_ms = about->column_int64(6);
      from_key = about->column_int64(7);
      size = about->column_int64(8);
    }
  }
  std::string dlq = consumer ? consumer->input.dead_letter_queue : std::string();
  if (dlq.empty()) {
    delete_message(seq);
    record(e);
    return;
  }
  materialize_declared(account_id);  // a declared queue of that name is the target
  std::optional<queue_record> target = find_queue_by_name(account_id, dlq);
  if (!target) target = insert_queue(account_id, hex_id(random_), dlq, {});
  // Never back into its own queue (refused when configured; kept as a guard).
  if (target->queue_id == consumer->queue_id) {
    delete_message(seq);
    record(e);
    return;
  }
  auto move = db_.prepare(
      "UPDATE messages SET qkey = ?2, attempts = 0, lease_id = NULL, lease_history = '', "
      "visible_at_ms = ?3, watch = NULL WHERE seq = ?1");
  move->bind(1, seq).bind(2, target->key).bind(3, clock_.now_ms());
  move->run();
  adjust_backlog(from_key, -1, -size);
  adjust_backlog(target->key, 1, size);
  e.type = event_type::dead_lettered;
  e.to_queue_id = target->queue_id;
  // The message keeps its age under the dead-letter queue's retention.
  if (retention_due_ms_ != 0) {
    retention_due_ms_ =
        std::min(retention_due_ms_, pushed_ms + target->settings.message_retention_period * 1000);
  }
  record(e);
}

pull_result queue_store::pull(std::string_view account_id, std::string_view queue_id,
                              std::int64_t batch_size,
                              std::optional<std::int64_t> visibility_timeout_ms) {
  queue_record queue = require_queue(account_id, queue_id);
  if (queue.settings.delivery_paused) {
    throw store_error(store_errc::delivery_paused, "delivery is paused");
  }
  const std::optional<consumer_record>& consumer = queue.consumer;
  bool pull_consumer = consumer && consumer->input.type == consumer_type::http_pull;
  if (!options_.lenient && !pull_consumer) {
    throw store_error(store_errc::no_pull_consumer, "the queue has no http_pull consumer");
  }
  std::int64_t timeout = visibility_timeout_ms.value_or(
      pull_consumer
          ? consumer->input.settings.visibility_timeout_ms.value_or(default_visibility_timeout_ms)
          : default_visibility_timeout_ms);
  std::int64_t max_retries =
      consumer ? consumer->input.settings.max_retries.value_or(default_max_retries)
               : default_max_retries;
  std::int64_t now_ms = clock_.now_ms();
  sweep_due();
  expire(queue, now_ms);

  pull_result out;
  auto ready = db_.prepare("SELECT " FLAREQ_MESSAGE_COLUMNS
                           " FROM messages WHERE qkey = ?1 AND visible_at_ms <= ?2 "
                           "ORDER BY visible_at_ms, seq LIMIT ?3");
  auto lease = db_.prepare(
      "UPDATE messages SET attempts = attempts + 1, visible_at_ms = ?2, lease_id = ?3, "
      "lease_history = lease_history || ?3, watch = 2 WHERE seq = ?1");
  // Exhausted messages leave the queue and free their places: look again
  // until the batch is full or nothing ready is left.
  while (static_cast<std::int64_t>(out.messages.size()) < batch_size) {
    std::vector<std::pair<message_record, std::int64_t>> found;
    ready->bind(1, queue.key)
        .bind(2, now_ms)
        .bind(3, batch_size - static_cast<std::int64_t>(out.messages.size()));
    while (ready->step())
      found.emplace_back(read_message(*ready, account_id, queue_id), ready->column_int64(0));
    ready->reset();
    if (found.empty()) break;
    for (auto& [message, seq] : found) {
      if (message.attempts > max_retries) {
        dead_letter(account_id, seq, consumer);
        continue;
      }
      std::string nonce = hex_id(random_);
      std::string lease_id = message.id + "." + nonce;
      lease->bind(1, seq).bind(2, now_ms + timeout).bind(3, nonce);
      lease->run();
      lease->reset();
      message.attempts += 1;
      message.visible_at_ms = now_ms + timeout;
      record({.at_ms = now_ms,
              .type = event_type::leased,
              .account_id = std::string(account_id),
              .queue_id = std::string(queue_id),
              .message_id = message.id,
              .lease_id = lease_id,
              .attempt = message.attempts,
              .until_ms = now_ms + timeout});
      out.messages.push_back({std::move(message), std::move(lease_id)});
    }
  }
  out.metrics = current_metrics(account_id, queue_id);
  return out;
}

std::int64_t queue_store::message_seq_for(std::int64_t qkey, std::string_view message_id) {
  std::int64_t seq = 0;
  if (std::optional<message_id_parts> parts = parse_message_id(message_id)) {
    auto q = db_.prepare(
        "SELECT seq FROM messages "
        "WHERE seq = ?1 AND qkey = ?2 AND id_tail = ?3 AND legacy_id IS NULL");
    q->bind(1, parts->seq).bind(2, qkey).bind(3, parts->id_tail);
    if (q->step()) seq = q->column_int64(0);
    q->reset();
  }
  if (seq == 0) {
    auto q = db_.prepare("SELECT seq FROM messages WHERE legacy_id = ?1 AND qkey = ?2");
    q->bind(1, message_id).bind(2, qkey);
    if (q->step()) seq = q->column_int64(0);
    q->reset();
  }
  return seq;
}

void queue_store::delete_message(std::int64_t seq) {
  auto del = db_.prepare("DELETE FROM messages WHERE seq = ?1 RETURNING qkey, size_bytes");
  del->bind(1, seq);
  if (!del->step()) return;
  std::int64_t qkey = del->column_int64(0);
  std::int64_t size = del->column_int64(1);
  del->reset();
  adjust_backlog(qkey, -1, -size);
}

namespace {

// A message's leases, as ack and retry weigh a lease id against them.
struct lease_facts {
  std::int64_t seq = 0;  // 0: no such message in the queue
  std::int64_t attempts = 0;
  std::int64_t size_bytes = 0;
  bool given = false;    // the lease id's nonce is one the message was given
  bool current = false;  // ... and it is the message's unexpired lease
  bool held = false;     // the message has an unexpired lease (this one or another)
};

// Tells whether history (32-character nonces end to end) holds nonce.
bool history_holds(std::string_view history, std::string_view nonce) {
  for (std::size_t at = 0; at + nonce.size() <= history.size(); at += nonce.size()) {
    if (history.substr(at, nonce.size()) == nonce) return true;
  }
  return false;
}

}  // namespace

ack_result queue_store::ack(std::string_view account_id, std::string_view queue_id,
                            const std::vector<std::string>& acks,
                            const std::vector<retry_request>& retries) {
  queue_record queue = require_queue(account_id, queue_id);
  std::int64_t now_ms = clock_.now_ms();
  sweep_due();
  expire(queue, now_ms);
  ack_result out;
  auto journal = [&](event_type type, const std::string& lease_id,
                     std::optional<std::int64_t> delay = std::nullopt) {
    record({.at_ms = now_ms,
            .type = type,
            .account_id = std::string(account_id),
            .queue_id = std::string(queue_id),
            .message_id = *lease_message_id(lease_id),
            .lease_id = lease_id,
            .delay_seconds = delay,
            .until_ms = delay ? std::optional(now_ms + *delay * 1000) : std::nullopt});
  };
  constexpr std::string_view malformed = "malformed lease id";
  constexpr std::string_view gone = "no such message in this queue (already acknowledged?)";
  constexpr std::string_view never_given = "this lease id was never given to this message";
  constexpr std::string_view superseded =
      "a later pull holds this message: only its lease can acknowledge or retry it now";
  constexpr std::string_view ended =
      "this lease has ended (it expired, or the message was retried): the retry changes "
      "nothing";
  constexpr std::string_view repeated =
      "this message was acknowledged or retried earlier in this request";
  std::set<std::string> acked_ids;  // messages this call deleted
  auto lookup = db_.prepare(
      "SELECT attempts, lease_id, visible_at_ms, lease_history, size_bytes FROM messages "
      "WHERE seq = ?1");
  // Resolves a lease id to its message's facts, or adds its warning and
  // returns seq 0.
  auto resolve = [&](const std::string& lease_id) {
    lease_facts f;
    std::optional<std::string> message_id = lease_message_id(lease_id);
    if (!message_id) {
      out.warnings.emplace_back(lease_id, malformed);
      return f;
    }
    std::string_view nonce = std::string_view(lease_id).substr(message_id->size() + 1);
    std::int64_t seq = message_seq_for(queue.key, *message_id);
    lookup->bind(1, seq);
    if (seq != 0 && lookup->step()) {
      f.seq = seq;
      f.attempts = lookup->column_int64(0);
      bool leased = !lookup->column_is_null(1) && lookup->column_int64(2) > now_ms;
      f.held = leased;
      f.current = leased && lookup->column_text(1) == nonce;
      std::string_view history = lookup->column_text(3);
      // "*": leased before histories were kept; any well-formed nonce counts.
      f.given = history.starts_with('*') || history_holds(history, nonce);
      f.size_bytes = lookup->column_int64(4);
    }
    lookup->reset();
    if (f.seq == 0 && acked_ids.contains(*message_id)) {
      out.warnings.emplace_back(lease_id, repeated);
    } else if (f.seq == 0) {
      out.warnings.emplace_back(lease_id, gone);
    } else if (!f.given) {
      out.warnings.emplace_back(lease_id, never_given);
      f.seq = 0;
    }
    return f;
  };
  auto remove = db_.prepare("DELETE FROM messages WHERE seq = ?1");
  std::int64_t acked_bytes = 0;
  // Each message counts once, whatever lease ids name it.
  std::set<std::int64_t> done;
  auto first_time = [&](std::int64_t seq, const std::string& lease_id) {
    if (done.insert(seq).second) return true;
    out.warnings.emplace_back(lease_id, repeated);
    return false;
  };
  // Any lease the message was given acknowledges it (late acks included),
  // unless another pull holds it now.
  for (const std::string& lease_id : acks) {
    lease_facts f = resolve(lease_id);
    if (f.seq == 0) continue;
    if (f.held && !f.current) {
      out.warnings.emplace_back(lease_id, superseded);
      continue;
    }
    if (!first_time(f.seq, lease_id)) continue;
    remove->bind(1, f.seq);
    remove->run();
    remove->reset();
    acked_bytes += f.size_bytes;
    acked_ids.insert(*lease_message_id(lease_id));
    journal(event_type::acked, lease_id);
    out.ack_count++;
  }
  // The acknowledged messages leave the backlog counts at once.
  if (out.ack_count > 0) adjust_backlog(queue.key, -out.ack_count, -acked_bytes);
  const std::optional<consumer_record>& consumer = queue.consumer;
  std::int64_t max_retries =
      consumer ? consumer->input.settings.max_retries.value_or(default_max_retries)
               : default_max_retries;
  std::int64_t default_delay = consumer ? consumer->input.settings.retry_delay.value_or(0) : 0;
  auto retry = db_.prepare(
      "UPDATE messages SET visible_at_ms = ?2, lease_id = NULL, watch = iif(?2 > ?3, 1, NULL) "
      "WHERE seq = ?1");
  // Only the current, unexpired lease retries.
  for (const retry_request& r : retries) {
    lease_facts f = resolve(r.lease_id);
    if (f.seq == 0) continue;
    if (!f.current) {
      if (done.contains(f.seq)) {
        out.warnings.emplace_back(r.lease_id, repeated);
      } else {
        out.warnings.emplace_back(r.lease_id, f.held ? superseded : ended);
      }
      continue;
    }
    if (!first_time(f.seq, r.lease_id)) continue;
    if (f.attempts > max_retries) {
      dead_letter(account_id, f.seq, consumer);
    } else {
      std::int64_t delay = r.delay_seconds.value_or(default_delay);
      retry->bind(1, f.seq).bind(2, now_ms + delay * 1000).bind(3, now_ms);
      retry->run();
      retry->reset();
      journal(event_type::retried, r.lease_id, delay);
    }
    out.retry_count++;
  }
  return out;
}

std::vector<message_record> queue_store::peek(std::string_view account_id,
                                              std::string_view queue_id, std::int64_t batch_size) {
  queue_record queue = require_queue(account_id, queue_id);
  std::int64_t now_ms = clock_.now_ms();
  expire(queue, now_ms);
  auto q = db_.prepare("SELECT " FLAREQ_MESSAGE_COLUMNS
                       " FROM messages WHERE qkey = ?1 AND visible_at_ms <= ?2 "
                       "ORDER BY visible_at_ms, seq LIMIT ?3");
  q->bind(1, queue.key).bind(2, now_ms).bind(3, batch_size);
  std::vector<message_record> out;
  while (q->step()) out.push_back(read_message(*q, account_id, queue_id));
  return out;
}

purge_refs_result queue_store::purge_messages(std::string_view account_id,
                                              std::string_view queue_id,
                                              const std::vector<std::string>& refs) {
  queue_record queue = require_queue(account_id, queue_id);
  expire(queue, clock_.now_ms());
  purge_refs_result out;
  for (const std::string& ref : refs) {
    std::optional<std::string> message_id = ref_message_id(ref);
    if (!message_id) {
      out.warnings.emplace_back(ref, "malformed ref");
      continue;
    }
    std::int64_t seq = message_seq_for(queue.key, *message_id);
    if (seq == 0) {
      out.warnings.emplace_back(ref, "no such message in this queue");
    } else {
      delete_message(seq);
      record({.at_ms = clock_.now_ms(),
              .type = event_type::purged,
              .account_id = std::string(account_id),
              .queue_id = std::string(queue_id),
              .message_id = *message_id});
      out.deleted++;
    }
  }
  return out;
}

}  // namespace flareq::storage
