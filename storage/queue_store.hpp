// The domain operations on queues and messages, on one database connection.
// It knows nothing of HTTP or JSON: callers hand it validated values, and it
// reports domain outcomes as store_error. Every method runs on the thread
// that owns the database (in the server: the writer thread, inside the
// writer's transaction); nothing here locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flareq::storage {

class clock;
class database;
class random_source;

// Domain outcomes that are not successes.
enum class store_errc {
  queue_not_found,         // no such queue in that account
  queue_name_taken,        // the account has a queue of that name already
  consumer_not_found,      // no such consumer on that queue
  consumer_exists,         // the queue has a consumer already
  delivery_paused,         // pull on a queue whose delivery is paused
  no_pull_consumer,        // pull on a queue without an http_pull consumer (not lenient)
  id_not_a_name,           // a push would create a queue, but its id is no valid queue name
  dead_letter_loop,        // a consumer's dead-letter queue is its own queue
  declared_name_taken,     // a declared queue's name belongs to another queue
  subscription_not_found,  // no such event subscription in that account
  destination_not_found,   // a subscription's destination queue does not exist
  snapshot_not_found,      // no snapshot of that name
  snapshot_unusable,       // a snapshot that cannot be read or migrated
};

class store_error : public std::runtime_error {
 public:
  store_error(store_errc code, const std::string& what) : std::runtime_error(what), code_(code) {}
  store_errc code() const { return code_; }

 private:
  store_errc code_;
};

enum class content_type { text, json };

// A queue that exists in every account from start-up on.
struct declared_queue {
  std::string name;
  std::string id;
};

struct store_options {
  // The local conveniences (--lenient): a push to an unknown queue creates
  // it, named after its id (when the id is a valid queue name: else
  // store_error(id_not_a_name)), and pull needs no http_pull consumer. Off,
  // both fail as on Cloudflare.
  bool lenient = false;
  // Queues that exist in every account: created on first use of their id,
  // unless deleted through the API since this store was made.
  std::vector<declared_queue> declared;
  // Pages in use past which a push fails as on a full disk (0: none), below
  // the database's own limit, so that what frees space still works.
  std::int64_t push_page_limit = 0;
  // WAL bytes past which a push fails as on a full disk (0: none): when
  // another program's read transaction keeps the WAL from restarting.
  std::int64_t push_wal_limit = 0;
  // Events the journal keeps (oldest dropped first); 0 records none.
  std::int64_t journal_size = 100'000;
  // Where snapshots are files ("": kept in memory, for :memory:).
  std::string snapshot_dir{};
  // Keep a change_count of every event, journal or not, for take_changes()
  // (the metrics' message counters).
  bool count_changes = false;
};

struct queue_metrics {
  std::int64_t backlog_bytes = 0;
  std::int64_t backlog_count = 0;
  std::int64_t oldest_message_timestamp_ms = 0;  // 0 when the backlog is empty
};

// A message to store. The body is the text as sent, or compact JSON.
struct new_message {
  content_type type = content_type::json;
  std::string body;
  // The delay chosen by the request; without one the queue's delivery_delay applies.
  std::optional<std::int64_t> delay_seconds;
};

struct queue_settings {
  std::int64_t delivery_delay = 0;  // seconds
  bool delivery_paused = false;
  std::int64_t message_retention_period = 345'600;  // seconds
};

enum class consumer_type { worker, http_pull };

// A consumer's settings; nullopt where none was given (max_concurrency:
// the platform decides).
struct consumer_settings {
  std::optional<std::int64_t> batch_size;
  std::optional<std::int64_t> max_concurrency;
  std::optional<std::int64_t> max_retries;
  std::optional<std::int64_t> max_wait_time_ms;
  std::optional<std::int64_t> retry_delay;
  std::optional<std::int64_t> visibility_timeout_ms;
};

struct consumer_input {
  consumer_type type = consumer_type::worker;
  std::string script_name;        // worker only
  std::string dead_letter_queue;  // a queue name, or ""
  consumer_settings settings;
};

struct consumer_record {
  std::string consumer_id;
  std::string queue_id;
  std::string queue_name;
  consumer_input input;
  std::int64_t created_us = 0;
};

struct queue_record {
  std::string account_id;
  std::string queue_id;
  std::int64_t key = 0;  // the queue's number in storage (messages.qkey)
  std::string queue_name;
  std::int64_t created_us = 0;
  std::int64_t modified_us = 0;
  queue_settings settings;
  std::optional<consumer_record> consumer;
};

// A queue that the configuration file provisions at start-up.
struct queue_spec {
  std::string name;
  std::string id;  // "" lets flareq choose (or keeps the id of the queue of that name)
  queue_settings settings;
  std::optional<consumer_input> consumer;
};

struct account_spec {
  std::string id;
  std::vector<queue_spec> queues;
};

struct queue_overview {
  queue_record queue;
  queue_metrics metrics;
};

struct reset_counts {
  std::int64_t queues = 0;
  std::int64_t messages = 0;
};

struct queue_page {
  std::vector<queue_record> queues;
  std::int64_t total_count = 0;  // matching queues on every page
};

// A stored message, as it is in the database.
struct message_record {
  std::string id;
  std::string account_id;
  std::string queue_id;
  content_type type = content_type::json;
  std::string body;
  std::int64_t size_bytes = 0;
  std::int64_t timestamp_ms = 0;
  std::int64_t delay_seconds = 0;
  std::int64_t visible_at_ms = 0;
  std::int64_t attempts = 0;
};

// A message as the inspection routes show it.
enum class message_state { ready, delayed, leased };

struct inspected_message {
  message_record message;
  message_state state = message_state::ready;
};

struct message_page {
  std::vector<inspected_message> messages;
  std::int64_t total_count = 0;
};

// A message handed out by pull, with the token of its lease.
struct leased_message {
  message_record message;
  std::string lease_id;
};

struct pull_result {
  std::vector<leased_message> messages;
  queue_metrics metrics;
};

struct retry_request {
  std::string lease_id;
  std::optional<std::int64_t> delay_seconds;
};

struct ack_result {
  std::int64_t ack_count = 0;
  std::int64_t retry_count = 0;
  std::vector<std::pair<std::string, std::string>> warnings;  // lease id, reason
};

struct purge_refs_result {
  std::int64_t deleted = 0;
  std::vector<std::pair<std::string, std::string>> warnings;  // ref, reason
};

// An event subscription: another product's events sent to a queue. source
// and events are JSON text that storage keeps as it is given.
struct subscription_input {
  std::string name;
  bool enabled = true;
  std::string source_json;  // {"type": ..., its fields}
  std::string events_json;  // ["event", ...]
  std::string queue_id;     // the destination
};

struct subscription_record {
  std::string subscription_id;
  subscription_input input;
  std::int64_t created_us = 0;
  std::int64_t modified_us = 0;
};

// A PATCH: nullopt leaves a field as it is (the source never changes).
struct subscription_patch {
  std::optional<std::string> name;
  std::optional<bool> enabled;
  std::optional<std::string> events_json;
  std::optional<std::string> queue_id;
};

enum class subscription_order { created_at, name, enabled, source };

struct subscription_query {
  std::optional<std::string> queue_id;  // only those sending to this queue
  subscription_order order = subscription_order::created_at;
  bool descending = false;
  std::int64_t page = 1;
  std::int64_t per_page = 20;
};

struct subscription_page {
  std::vector<subscription_record> subscriptions;
  std::int64_t total_count = 0;
};

// The journal: what happened to messages and queues.
enum class event_type {
  pushed,             // until_ms: visible from; delay_seconds
  ready,              // a delay ended
  leased,             // lease_id, attempt, until_ms: the lease's end
  acked,              // lease_id
  retried,            // lease_id, delay_seconds, until_ms: visible again from
  lease_expired,      // lease_id, attempt
  dead_lettered,      // to_queue_id, attempt
  discarded,          // past max_retries with no dead-letter queue; attempt
  expired,            // removed by the queue's retention period
  purged,             // message_id, or count for the whole queue
  queue_deleted,      // count: the messages it held
  reset,              // POST /_flareq/reset; count: the messages it held
  snapshot_restored,  // name: the snapshot's
  queue_created,      // name: the queue's
  queue_updated,      // its name or settings changed, or its consumer
  clock_moved,        // POST /_flareq/clock: at_ms is the new time
};
std::string_view to_string(event_type type);

// One change, for counting: an event's kind and queue, and how many
// messages it concerns (a whole-queue purge, a reset: many).
struct change_count {
  event_type type = event_type::pushed;
  std::string account_id{};
  std::string queue_id{};
  std::int64_t messages = 1;
};

// A queue's backlog by state, at one time (for the metrics scrape).
struct queue_backlog {
  std::string account_id{};
  std::string queue_id{};
  std::int64_t ready_count = 0, ready_bytes = 0;
  std::int64_t delayed_count = 0, delayed_bytes = 0;
  std::int64_t leased_count = 0, leased_bytes = 0;
  std::optional<std::int64_t> oldest_timestamp_ms{};  // none when the backlog is empty
};

// The bytes the database takes: its file and its WAL (a :memory:
// database: its pages, and no WAL).
struct storage_footprint {
  std::int64_t file_bytes = 0;
  std::int64_t wal_bytes = 0;
};

struct journal_event {
  std::int64_t id = 0;
  std::int64_t at_ms = 0;
  event_type type = event_type::pushed;
  std::string account_id{};
  std::string queue_id{};
  std::string message_id{};
  std::optional<std::string> lease_id{};
  std::optional<std::int64_t> attempt{};
  std::optional<std::int64_t> delay_seconds{};
  std::optional<std::int64_t> until_ms{};
  std::optional<std::string> to_queue_id{};
  std::optional<std::int64_t> count{};
  std::optional<std::string> name{};
};

// Which events to read: those after an id, matching every filter given ("": any).
struct event_query {
  std::string account_id;
  std::string queue_id;
  std::string message_id;
  std::int64_t after = 0;
  std::int64_t limit = 100;
};

struct snapshot_info {
  std::string name;
  std::int64_t size_bytes = 0;
  std::int64_t created_ms = 0;
};

// Defaults that apply where neither request nor consumer says otherwise.
inline constexpr std::int64_t default_visibility_timeout_ms = 30'000;
inline constexpr std::int64_t default_max_retries = 3;

class queue_store {
 public:
  // The references must outlive the store. A new store starts a new run:
  // declared queues deleted in an earlier run are declared again (with
  // declared queues, the database must be migrated first).
  queue_store(database& db, clock& clock, random_source& random, store_options options);
  ~queue_store();
  queue_store(const queue_store&) = delete;
  queue_store& operator=(const queue_store&) = delete;

  // Stores the messages in the queue, stamped with the current time and made
  // visible after their delay. Creates the queue first when it is declared or
  // create_on_push is set. Returns the queue's metrics afterwards.
  // Throws store_error(queue_not_found) or store_error(queue_name_taken).
  queue_metrics push(std::string_view account_id, std::string_view queue_id,
                     std::span<const new_message> messages);

  // Returns the queue's backlog metrics, at a cost that does not grow with the backlog.
  // Throws store_error(queue_not_found).
  queue_metrics metrics(std::string_view account_id, std::string_view queue_id);

  // Queues (the control plane). Each throws store_error(queue_not_found)
  // for an unknown queue and (queue_name_taken) for a name in use.
  queue_record create_queue(std::string_view account_id, std::string_view name,
                            const queue_settings& settings);
  // Lists the account's queues by name filter (any of names; all when
  // empty), ordered by creation, one page at a time (page from 1).
  queue_page list_queues(std::string_view account_id, const std::vector<std::string>& names,
                         std::int64_t page, std::int64_t per_page);
  queue_record get_queue(std::string_view account_id, std::string_view queue_id);
  // Sets the name (when given) and every setting. A rename to the name of
  // the queue's consumer's dead-letter queue is store_error(dead_letter_loop)
  // unless check_dead_letter is false (provisioning replaces that consumer).
  queue_record update_queue(std::string_view account_id, std::string_view queue_id,
                            std::optional<std::string> name, const queue_settings& settings,
                            bool check_dead_letter = true);
  void delete_queue(std::string_view account_id, std::string_view queue_id);
  // Deletes every message of the queue and records when.
  queue_record purge_queue(std::string_view account_id, std::string_view queue_id);
  // Returns when the last purge started, or nullopt when there was none.
  std::optional<std::int64_t> purge_started_us(std::string_view account_id,
                                               std::string_view queue_id);

  // Leases up to batch_size ready messages, oldest first, for the
  // visibility timeout (nullopt: the consumer's, else 30 s). Messages past
  // the consumer's max_retries go to its dead-letter queue (or are deleted)
  // instead. Throws store_error(queue_not_found, delivery_paused,
  // no_pull_consumer).
  pull_result pull(std::string_view account_id, std::string_view queue_id, std::int64_t batch_size,
                   std::optional<std::int64_t> visibility_timeout_ms);
  // Deletes acknowledged messages and makes retried ones ready again after
  // their delay, after applying retention. An ack may use any lease the
  // message was given (late acks count) unless another lease holds the
  // message now; a retry needs the message's current, unexpired lease.
  // Every other entry (malformed, unknown, never given, ended, superseded,
  // or a repeat within this call) becomes a warning and is not counted.
  ack_result ack(std::string_view account_id, std::string_view queue_id,
                 const std::vector<std::string>& acks, const std::vector<retry_request>& retries);
  // Returns up to batch_size ready messages without leasing them.
  std::vector<message_record> peek(std::string_view account_id, std::string_view queue_id,
                                   std::int64_t batch_size);
  // Deletes the messages named by refs (see message_ref), after applying
  // retention; refs that name no message become warnings.
  purge_refs_result purge_messages(std::string_view account_id, std::string_view queue_id,
                                   const std::vector<std::string>& refs);

  // Inspection (outside the Cloudflare API). Lists every queue of every
  // account with its metrics.
  std::vector<queue_overview> all_queues();
  // Returns the queue's messages in every state (or in one), in push order,
  // a page at a time.
  message_page inspect_messages(std::string_view account_id, std::string_view queue_id,
                                std::int64_t page, std::int64_t per_page,
                                std::optional<message_state> only = std::nullopt);
  // Deletes every queue, consumer and message; returns how many there were.
  reset_counts reset();

  // Makes the account's queues (and their consumers) exist as the spec says:
  // created when missing, their settings and consumer replaced when present.
  // Throws store_error(queue_name_taken) when a fixed id's name belongs to
  // another queue.
  void provision(const account_spec& account);

  // Consumers: one per queue. create throws store_error(consumer_exists);
  // the dead-letter queue is created when missing.
  consumer_record create_consumer(std::string_view account_id, std::string_view queue_id,
                                  const consumer_input& input);
  std::vector<consumer_record> list_consumers(std::string_view account_id,
                                              std::string_view queue_id);
  consumer_record get_consumer(std::string_view account_id, std::string_view queue_id,
                               std::string_view consumer_id);
  // Replaces the consumer, or creates it with that id when the queue has
  // none. Throws store_error(consumer_exists) when the queue has another
  // consumer, or when the id belongs to another queue's consumer.
  consumer_record put_consumer(std::string_view account_id, std::string_view queue_id,
                               std::string_view consumer_id, const consumer_input& input);
  void delete_consumer(std::string_view account_id, std::string_view queue_id,
                       std::string_view consumer_id);

  // Event subscriptions (storage/subscriptions.cpp). The destination must
  // be a queue of the account: else store_error(destination_not_found);
  // an unknown id is store_error(subscription_not_found). They are deleted
  // with their queue.
  subscription_record create_subscription(std::string_view account_id,
                                          const subscription_input& input);
  subscription_page list_subscriptions(std::string_view account_id,
                                       const subscription_query& query);
  subscription_record get_subscription(std::string_view account_id,
                                       std::string_view subscription_id);
  subscription_record update_subscription(std::string_view account_id,
                                          std::string_view subscription_id,
                                          const subscription_patch& patch);
  // Deletes the subscription and returns it as it was.
  subscription_record delete_subscription(std::string_view account_id,
                                          std::string_view subscription_id);

  // The journal (storage/journal.cpp). Journals what time has made due
  // (delays ended, leases expired, messages past retention, which also
  // leave the file) and returns how many events that made.
  std::int64_t sweep();
  // Journals a move of the manual clock (after the sweep it calls for).
  void record_clock_moved();
  // Returns events in id order, after query.after, at most query.limit.
  std::vector<journal_event> events(const event_query& query);
  // The newest event's id (0 when none).
  std::int64_t last_event_id();
  // Forgets what the store keeps in memory about the database (the next
  // retention due time, the oldest event id): the writer calls it when a
  // transaction was rolled back or its commit failed.
  void forget_cached() {
    retention_due_ms_ = 0;
    journal_first_ = -1;
  }

  // Tells whether events were recorded since the last call (and forgets it):
  // after a commit, whether the journal's readers have something new.
  bool take_recorded() { return std::exchange(recorded_, false); }

  // The changes counted since the last take (store_options::count_changes).
  // The writer takes them after a commit, and undoes those of a job whose
  // savepoint or transaction was rolled back: mark before, undo to the mark.
  std::vector<change_count> take_changes() { return std::exchange(changes_, {}); }
  std::size_t changes_mark() const { return changes_.size(); }
  void undo_changes(std::size_t mark) {
    if (mark < changes_.size()) changes_.resize(mark);
  }

  // Every queue's backlog by state now (by account, then queue id).
  std::vector<queue_backlog> backlogs();
  // What the database takes on disk (or in memory) now.
  storage_footprint footprint();

  // Snapshots (storage/snapshots.cpp): the whole state under a name. Save
  // and restore must run alone (outside any transaction; see writer). The
  // journal is not part of what a restore brings back: it records the
  // restore. Throws store_error(snapshot_not_found, snapshot_unusable).
  snapshot_info save_snapshot(const std::string& name);
  void restore_snapshot(const std::string& name);
  std::vector<snapshot_info> list_snapshots();
  void delete_snapshot(const std::string& name);

  // Returns the queue's messages in push order (for tests and inspection).
  std::vector<message_record> messages(std::string_view account_id, std::string_view queue_id);

  // Tells whether the schema is at the version this binary expects.
  bool ready();

 private:
  std::optional<queue_record> find_queue(std::string_view account_id, std::string_view queue_id);
  // The queue's row, without its consumer.
  std::optional<queue_record> find_queue_row(std::string_view account_id,
                                             std::string_view queue_id);
  // The metrics as stored now (no retention pass); throws queue_not_found.
  queue_metrics current_metrics(std::string_view account_id, std::string_view queue_id);
  std::optional<queue_record> find_queue_by_name(std::string_view account_id,
                                                 std::string_view name);
  // Finds the queue, creating it when its id is declared; throws queue_not_found.
  queue_record require_queue(std::string_view account_id, std::string_view queue_id);
  // Throws store_error(queue_name_taken) when the account has a queue named name.
  void ensure_name_free(std::string_view account_id, std::string_view name);
  queue_record insert_queue(std::string_view account_id, std::string_view queue_id,
                            std::string_view name, const queue_settings& settings);
  queue_record resolve_for_push(std::string_view account_id, std::string_view queue_id);
  // Creates the account's declared queues that it lacks.
  void materialize_declared(std::string_view account_id);
  // Creates the declared queue of that id on its first use; nullopt when the
  // id is not declared. Throws queue_not_found when it was deleted through
  // the API in this run, or when another queue has its name.
  std::optional<queue_record> materialize(std::string_view account_id, std::string_view queue_id);
  // The declared queue of that id, unless deleted through the API in this run.
  const declared_queue* live_declared(std::string_view account_id, std::string_view queue_id);
  std::optional<consumer_record> find_consumer(std::string_view account_id,
                                               std::string_view queue_id);
  void write_consumer(std::string_view account_id, const queue_record& queue,
                      std::string_view consumer_id, const consumer_input& input,
                      std::int64_t created_us);
  // Deletes messages older than the queue's retention period.
  void expire(const queue_record& queue, std::int64_t now_ms);
  // Moves a message past its retries to the dead-letter queue, or deletes it.
  void dead_letter(std::string_view account_id, std::int64_t seq,
                   const std::optional<consumer_record>& consumer);
  // The seq of the message of that id in the queue numbered qkey, or 0
  // when there is none: a read by the seq the id names, or, for a message
  // stored before ids were made, by its legacy_id.
  std::int64_t message_seq_for(std::int64_t qkey, std::string_view message_id);
  // Deletes the message, and takes it off its queue's backlog counts.
  void delete_message(std::int64_t seq);
  // Adds count messages of bytes in all to the queue's backlog counts
  // (negative: takes them off). Every change to messages calls it: no
  // trigger keeps the counts.
  void adjust_backlog(std::int64_t qkey, std::int64_t count, std::int64_t bytes);
  // Throws destination_not_found unless the account has the queue (a
  // declared one is created).
  void require_destination(std::string_view account_id, std::string_view queue_id);

  // Journals one event (none when the journal is off) and drops the oldest
  // past its size.
  void record(const journal_event& e);
  void record_queue_updated(std::string_view account_id, std::string_view queue_id);
  // The database file's pages that hold data (not on the free list).
  std::int64_t pages_in_use();
  // Tells whether a message may be past its queue's retention period now
  // (retention_due_ms_, looked up when unknown): else expire() does nothing.
  bool retention_may_be_due(std::int64_t now_ms);
  // Makes room for an event under --max-db-bytes; false when there is none.
  bool journal_room();
  // Journals due delay ends and lease ends (not retention).
  void sweep_due();
  std::string snapshot_path(const std::string& name) const;

  database& db_;
  clock& clock_;
  random_source& random_;
  store_options options_;
  std::int64_t journal_first_ = -1;    // the oldest event id kept; -1: not read yet
  bool recorded_ = false;              // events recorded since take_recorded()
  std::vector<change_count> changes_;  // counted since take_changes()
  // No message passes its retention period before this time (a lower bound,
  // lowered by pushes); 0: unknown, looked up at the next use.
  std::int64_t retention_due_ms_ = 0;
  // Snapshots of a :memory: database, by name.
  struct memory_snapshot;
  std::vector<std::shared_ptr<memory_snapshot>> memory_snapshots_;
};

// Tells whether name is a valid queue name: 1 to 63 letters, digits and
// hyphens, starting and ending with a letter or digit (decisions.md, Queues).
bool is_valid_queue_name(std::string_view name);

// Returns the size Cloudflare counts for a body: its bytes.
inline std::int64_t message_size(std::string_view body) {
  return static_cast<std::int64_t>(body.size());
}

std::string_view to_string(content_type type);
std::string_view to_string(consumer_type type);

// Lease tokens: "<message id>.<nonce>", both lowercase hex. Returns the
// message id of a well-formed token, or nullopt.
std::optional<std::string> lease_message_id(std::string_view lease_id);

// Peek refs: "ref-<message id>". Returns the message id, or nullopt.
std::string message_ref(std::string_view message_id);
std::optional<std::string> ref_message_id(std::string_view ref);

}  // namespace flareq::storage
