// The domain operations on queues and messages, on one database connection.
// It knows nothing of HTTP or JSON: callers hand it validated values, and it
// reports domain outcomes as store_error. Every method runs on the thread
// that owns the database (in the server: the writer thread, inside the
// writer's transaction); nothing here locks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flareq::storage {

class clock;
class database;
class random_source;

// Domain outcomes that are not successes.
enum class store_errc {
  queue_not_found,   // no such queue in that account
  queue_name_taken,  // the account has a queue of that name already
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
  // Creates an unknown queue on its first push, named after its id.
  bool create_on_push = true;
  // Queues that exist in every account: created on first use of their id.
  std::vector<declared_queue> declared;
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

class queue_store {
 public:
  // The references must outlive the store.
  queue_store(database& db, clock& clock, random_source& random, store_options options);

  // Stores the messages in the queue, stamped with the current time and made
  // visible after their delay. Creates the queue first when it is declared or
  // create_on_push is set. Returns the queue's metrics afterwards.
  // Throws store_error(queue_not_found) or store_error(queue_name_taken).
  queue_metrics push(std::string_view account_id, std::string_view queue_id,
                     std::span<const new_message> messages);

  // Returns the queue's backlog metrics, at a cost that does not grow with the backlog.
  // Throws store_error(queue_not_found).
  queue_metrics metrics(std::string_view account_id, std::string_view queue_id);

  // Returns the queue's messages in push order (for tests and inspection).
  std::vector<message_record> messages(std::string_view account_id, std::string_view queue_id);

  // Tells whether the schema is at the version this binary expects.
  bool ready();

 private:
  struct queue_row {
    std::int64_t delivery_delay = 0;
  };
  std::optional<queue_row> find_queue(std::string_view account_id, std::string_view queue_id);
  queue_row create_queue(std::string_view account_id, std::string_view queue_id,
                         std::string_view name);
  queue_row resolve_for_push(std::string_view account_id, std::string_view queue_id);

  database& db_;
  clock& clock_;
  random_source& random_;
  store_options options_;
};

// Returns the size Cloudflare counts for a body: its bytes.
inline std::int64_t message_size(std::string_view body) {
  return static_cast<std::int64_t>(body.size());
}

std::string_view to_string(content_type type);

}  // namespace flareq::storage
