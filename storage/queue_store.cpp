// Queue, message and consumer operations in SQL (see queue_store.hpp).
#include "storage/queue_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/migrate.hpp"

namespace flareq::storage {
namespace {

constexpr std::string_view ref_prefix = "ref-";

bool is_hex32(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

[[noreturn]] void queue_missing(std::string_view queue_id) {
  throw store_error(store_errc::queue_not_found,
                    "no queue has id " + std::string(queue_id) + " in this account");
}

constexpr std::string_view queue_columns =
    "account_id, queue_id, queue_name, created_us, modified_us, delivery_delay, "
    "delivery_paused, message_retention_period";

queue_record read_queue(statement& s) {
  queue_record q;
  q.account_id = s.column_text(0);
  q.queue_id = s.column_text(1);
  q.queue_name = s.column_text(2);
  q.created_us = s.column_int64(3);
  q.modified_us = s.column_int64(4);
  q.settings.delivery_delay = s.column_int64(5);
  q.settings.delivery_paused = s.column_int64(6) != 0;
  q.settings.message_retention_period = s.column_int64(7);
  return q;
}

constexpr std::string_view message_columns =
    "id, content_type, body, size_bytes, timestamp_ms, delay_seconds, visible_at_ms, attempts, "
    "seq";

message_record read_message(statement& s, std::string_view account_id, std::string_view queue_id) {
  message_record r;
  r.id = s.column_text(0);
  r.account_id = account_id;
  r.queue_id = queue_id;
  r.type = s.column_text(1) == "text" ? content_type::text : content_type::json;
  r.body = s.column_text(2);
  r.size_bytes = s.column_int64(3);
  r.timestamp_ms = s.column_int64(4);
  r.delay_seconds = s.column_int64(5);
  r.visible_at_ms = s.column_int64(6);
  r.attempts = s.column_int64(7);
  return r;
}

void bind_optional(statement& s, int index, const std::optional<std::int64_t>& v) {
  if (v) {
    s.bind(index, *v);
  } else {
    s.bind_null(index);
  }
}

std::optional<std::int64_t> optional_column(statement& s, int index) {
  if (s.column_is_null(index)) return std::nullopt;
  return s.column_int64(index);
}

}  // namespace

std::string_view to_string(content_type type) {
  return type == content_type::text ? "text" : "json";
}

std::string_view to_string(consumer_type type) {
  return type == consumer_type::worker ? "worker" : "http_pull";
}

std::optional<std::string> lease_message_id(std::string_view lease_id) {
  auto dot = lease_id.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string_view id = lease_id.substr(0, dot);
  std::string_view nonce = lease_id.substr(dot + 1);
  if (!is_hex32(id) || !is_hex32(nonce)) return std::nullopt;
  return std::string(id);
}

bool is_valid_queue_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-'; });
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

queue_store::queue_store(database& db, clock& clock, random_source& random, store_options options)
    : db_(db), clock_(clock), random_(random), options_(std::move(options)) {
  if (!options_.declared.empty()) db_.exec("DELETE FROM deleted_declared");
}

// ---- queues ---------------------------------------------------------------

std::optional<queue_record> queue_store::find_queue_row(std::string_view account_id,
                                                        std::string_view queue_id) {
  auto q = db_.prepare("SELECT " + std::string(queue_columns) +
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
      "delivery_delay, delivery_paused, message_retention_period) "
      "VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)");
  q->bind(1, account_id)
      .bind(2, queue_id)
      .bind(3, name)
      .bind(4, now)
      .bind(5, settings.delivery_delay)
      .bind(6, settings.delivery_paused ? 1 : 0)
      .bind(7, settings.message_retention_period);
  q->run();
  queue_record r;
  r.account_id = account_id;
  r.queue_id = queue_id;
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
      throw store_error(store_errc::queue_not_found,
                        "no queue has id " + std::string(queue_id) +
                            " in this account (the declared queue's name " + d.name +
                            " belongs to queue " + taken->queue_id + ")");
    }
    return insert_queue(account_id, queue_id, d.name, {});
  }
  return std::nullopt;
}

queue_record queue_store::require_queue(std::string_view account_id, std::string_view queue_id) {
  if (auto q = find_queue(account_id, queue_id)) return *q;
  if (auto q = materialize(account_id, queue_id)) return *q;
  queue_missing(queue_id);
}

queue_record queue_store::resolve_for_push(std::string_view account_id, std::string_view queue_id) {
  // A push needs no consumer: the queue's row alone.
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
  auto q = db_.prepare("SELECT " + std::string(queue_columns) +
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
                                       const queue_settings& settings) {
  queue_record current = require_queue(account_id, queue_id);
  if (name && *name != current.queue_name) {
    ensure_name_free(account_id, *name);
    if (current.consumer && current.consumer->input.dead_letter_queue == *name) {
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
  return require_queue(account_id, queue_id);
}

void queue_store::delete_queue(std::string_view account_id, std::string_view queue_id) {
  require_queue(account_id, queue_id);
  auto q = db_.prepare("DELETE FROM queues WHERE account_id = ?1 AND queue_id = ?2");
  q->bind(1, account_id).bind(2, queue_id);
  q->run();
  // A declared queue deleted through the API stays deleted for this run.
  if (live_declared(account_id, queue_id) != nullptr) {
    auto gone = db_.prepare("INSERT INTO deleted_declared (account_id, queue_id) VALUES (?1, ?2)");
    gone->bind(1, account_id).bind(2, queue_id);
    gone->run();
  }
}

queue_record queue_store::purge_queue(std::string_view account_id, std::string_view queue_id) {
  require_queue(account_id, queue_id);
  auto del = db_.prepare("DELETE FROM messages WHERE account_id = ?1 AND queue_id = ?2");
  del->bind(1, account_id).bind(2, queue_id);
  del->run();
  auto mark = db_.prepare(
      "UPDATE queues SET purge_started_us = ?3 WHERE account_id = ?1 AND queue_id = ?2");
  mark->bind(1, account_id).bind(2, queue_id).bind(3, clock_.now_us());
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

// ---- messages -------------------------------------------------------------

void queue_store::expire(const queue_record& queue, std::int64_t now_ms) {
  auto q = db_.prepare(
      "DELETE FROM messages WHERE account_id = ?1 AND queue_id = ?2 AND timestamp_ms < ?3");
  q->bind(1, queue.account_id)
      .bind(2, queue.queue_id)
      .bind(3, now_ms - queue.settings.message_retention_period * 1000);
  q->run();
}

queue_metrics queue_store::push(std::string_view account_id, std::string_view queue_id,
                                std::span<const new_message> messages) {
  if (options_.push_page_limit > 0) {
    auto used = db_.prepare(
        "SELECT (SELECT page_count FROM pragma_page_count()) - "
        "(SELECT freelist_count FROM pragma_freelist_count())");
    used->step();
    if (used->column_int64(0) >= options_.push_page_limit) {
      throw database_error(SQLITE_FULL,
                           "database or disk is full: pushes stop at 75% of --max-db-bytes, so "
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
  auto insert = db_.prepare(
      "INSERT INTO messages (id, account_id, queue_id, content_type, body, size_bytes, "
      "timestamp_ms, delay_seconds, visible_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  for (const new_message& m : messages) {
    std::int64_t delay = m.delay_seconds.value_or(queue.settings.delivery_delay);
    std::string id = time_ordered_id(now_ms, random_);
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
  return current_metrics(account_id, queue_id);
}

queue_metrics queue_store::metrics(std::string_view account_id, std::string_view queue_id) {
  queue_record queue = require_queue(account_id, queue_id);
  expire(queue, clock_.now_ms());
  return current_metrics(account_id, queue_id);
}

queue_metrics queue_store::current_metrics(std::string_view account_id, std::string_view queue_id) {
  auto counts = db_.prepare(
      "SELECT backlog_count, backlog_bytes FROM queues WHERE account_id = ?1 AND queue_id = ?2");
  counts->bind(1, account_id).bind(2, queue_id);
  if (!counts->step()) queue_missing(queue_id);
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
  auto q = db_.prepare("SELECT " + std::string(message_columns) +
                       " FROM messages WHERE account_id = ?1 AND queue_id = ?2 ORDER BY seq");
  q->bind(1, account_id).bind(2, queue_id);
  std::vector<message_record> out;
  while (q->step()) out.push_back(read_message(*q, account_id, queue_id));
  return out;
}

void queue_store::dead_letter(std::string_view account_id, std::int64_t seq,
                              const std::optional<consumer_record>& consumer) {
  std::string dlq = consumer ? consumer->input.dead_letter_queue : std::string();
  if (dlq.empty()) {
    auto del = db_.prepare("DELETE FROM messages WHERE seq = ?1");
    del->bind(1, seq);
    del->run();
    return;
  }
  std::optional<queue_record> target = find_queue_by_name(account_id, dlq);
  if (!target) target = insert_queue(account_id, hex_id(random_), dlq, {});
  // Never back into its own queue (refused when configured; kept as a guard).
  auto from = db_.prepare("SELECT queue_id FROM messages WHERE seq = ?1");
  from->bind(1, seq);
  if (from->step() && from->column_text(0) == target->queue_id) {
    delete_message(seq);
    return;
  }
  auto move = db_.prepare(
      "UPDATE messages SET queue_id = ?2, attempts = 0, lease_id = NULL, lease_history = '', "
      "visible_at_ms = ?3 WHERE seq = ?1");
  move->bind(1, seq).bind(2, target->queue_id).bind(3, clock_.now_ms());
  move->run();
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
  expire(queue, now_ms);

  pull_result out;
  auto ready = db_.prepare("SELECT " + std::string(message_columns) +
                           " FROM messages WHERE account_id = ?1 AND queue_id = ?2 AND "
                           "visible_at_ms <= ?3 ORDER BY visible_at_ms, seq LIMIT ?4");
  auto lease = db_.prepare(
      "UPDATE messages SET attempts = attempts + 1, visible_at_ms = ?2, lease_id = ?3, "
      "lease_history = lease_history || ?3 WHERE seq = ?1");
  // Exhausted messages leave the queue and free their places: look again
  // until the batch is full or nothing ready is left.
  while (static_cast<std::int64_t>(out.messages.size()) < batch_size) {
    std::vector<std::pair<message_record, std::int64_t>> found;
    ready->bind(1, account_id)
        .bind(2, queue_id)
        .bind(3, now_ms)
        .bind(4, batch_size - static_cast<std::int64_t>(out.messages.size()));
    while (ready->step())
      found.emplace_back(read_message(*ready, account_id, queue_id), ready->column_int64(8));
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
      out.messages.push_back({std::move(message), std::move(lease_id)});
    }
  }
  out.metrics = current_metrics(account_id, queue_id);
  return out;
}

std::int64_t queue_store::message_seq_for(std::string_view account_id, std::string_view queue_id,
                                          std::string_view message_id) {
  auto q =
      db_.prepare("SELECT seq FROM messages WHERE id = ?1 AND account_id = ?2 AND queue_id = ?3");
  q->bind(1, message_id).bind(2, account_id).bind(3, queue_id);
  if (!q->step()) return 0;
  return q->column_int64(0);
}

void queue_store::delete_message(std::int64_t seq) {
  auto del = db_.prepare("DELETE FROM messages WHERE seq = ?1");
  del->bind(1, seq);
  del->run();
}

namespace {

// A message's leases, as ack and retry weigh a lease id against them.
struct lease_facts {
  std::int64_t seq = 0;  // 0: no such message in the queue
  std::int64_t attempts = 0;
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
  expire(queue, now_ms);
  ack_result out;
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
      "SELECT seq, attempts, lease_id, visible_at_ms, lease_history FROM messages "
      "WHERE id = ?1 AND account_id = ?2 AND queue_id = ?3");
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
    lookup->bind(1, *message_id).bind(2, account_id).bind(3, queue_id);
    if (lookup->step()) {
      f.seq = lookup->column_int64(0);
      f.attempts = lookup->column_int64(1);
      bool leased = !lookup->column_is_null(2) && lookup->column_int64(3) > now_ms;
      f.held = leased;
      f.current = leased && lookup->column_text(2) == nonce;
      std::string_view history = lookup->column_text(4);
      // "*": leased before histories were kept; any well-formed nonce counts.
      f.given = history.starts_with('*') || history_holds(history, nonce);
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
    delete_message(f.seq);
    acked_ids.insert(*lease_message_id(lease_id));
    out.ack_count++;
  }
  const std::optional<consumer_record>& consumer = queue.consumer;
  std::int64_t max_retries =
      consumer ? consumer->input.settings.max_retries.value_or(default_max_retries)
               : default_max_retries;
  std::int64_t default_delay = consumer ? consumer->input.settings.retry_delay.value_or(0) : 0;
  auto retry =
      db_.prepare("UPDATE messages SET visible_at_ms = ?2, lease_id = NULL WHERE seq = ?1");
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
      retry->bind(1, f.seq).bind(2, now_ms + r.delay_seconds.value_or(default_delay) * 1000);
      retry->run();
      retry->reset();
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
  auto q = db_.prepare("SELECT " + std::string(message_columns) +
                       " FROM messages WHERE account_id = ?1 AND queue_id = ?2 AND "
                       "visible_at_ms <= ?3 ORDER BY visible_at_ms, seq LIMIT ?4");
  q->bind(1, account_id).bind(2, queue_id).bind(3, now_ms).bind(4, batch_size);
  std::vector<message_record> out;
  while (q->step()) out.push_back(read_message(*q, account_id, queue_id));
  return out;
}

purge_refs_result queue_store::purge_messages(std::string_view account_id,
                                              std::string_view queue_id,
                                              const std::vector<std::string>& refs) {
  expire(require_queue(account_id, queue_id), clock_.now_ms());
  purge_refs_result out;
  for (const std::string& ref : refs) {
    std::optional<std::string> message_id = ref_message_id(ref);
    if (!message_id) {
      out.warnings.emplace_back(ref, "malformed ref");
      continue;
    }
    std::int64_t seq = message_seq_for(account_id, queue_id, *message_id);
    if (seq == 0) {
      out.warnings.emplace_back(ref, "no such message in this queue");
    } else {
      delete_message(seq);
      out.deleted++;
    }
  }
  return out;
}

std::vector<queue_overview> queue_store::all_queues() {
  std::vector<queue_record> queues;
  {
    auto q = db_.prepare("SELECT " + std::string(queue_columns) +
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

message_page queue_store::inspect_messages(std::string_view account_id, std::string_view queue_id,
                                           std::int64_t page, std::int64_t per_page) {
  message_page out;
  out.total_count = metrics(account_id, queue_id).backlog_count;
  auto q = db_.prepare("SELECT " + std::string(message_columns) +
                       ", lease_id IS NOT NULL FROM messages WHERE account_id = ?1 AND "
                       "queue_id = ?2 ORDER BY seq LIMIT ?3 OFFSET ?4");
  q->bind(1, account_id).bind(2, queue_id).bind(3, per_page).bind(4, (page - 1) * per_page);
  std::int64_t now_ms = clock_.now_ms();
  while (q->step()) {
    message_record m = read_message(*q, account_id, queue_id);
    message_state state = m.visible_at_ms <= now_ms ? message_state::ready
                          : q->column_int64(9) != 0 ? message_state::leased
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
  return out;
}

void queue_store::provision(const account_spec& account) {
  for (const queue_spec& spec : account.queues) {
    std::optional<queue_record> queue = spec.id.empty() ? find_queue_by_name(account.id, spec.name)
                                                        : find_queue(account.id, spec.id);
    queue_record q = queue ? update_queue(account.id, queue->queue_id, spec.name, spec.settings)
                           : insert_queue(account.id, spec.id.empty() ? hex_id(random_) : spec.id,
                                          spec.name, spec.settings);
    if (!spec.consumer) continue;
    std::optional<consumer_record> current = find_consumer(account.id, q.queue_id);
    write_consumer(account.id, q, current ? current->consumer_id : hex_id(random_), *spec.consumer,
                   current ? current->created_us : clock_.now_us());
  }
}

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
}

bool queue_store::ready() {
  return schema_version(db_) == latest_schema_version();
}

}  // namespace flareq::storage
