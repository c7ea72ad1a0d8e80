// Row mapping shared by the files that implement queue_store (queue_store.cpp,
// delivery.cpp, consumers.cpp): column lists, row readers, optional binds,
// and the not-found outcome. Internal to storage; nothing outside includes it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/queue_store.hpp"

namespace flareq::storage::rows {

[[noreturn]] inline void queue_missing(std::string_view queue_id) {
  throw store_error(store_errc::queue_not_found,
                    "no queue has id " + std::string(queue_id) + " in this account");
}

// The column lists as macros, so that each statement is one string literal
// made at compile time ("SELECT " FLAREQ_QUEUE_COLUMNS " FROM queues ...").
#define FLAREQ_QUEUE_COLUMNS                                                    \
  "account_id, queue_id, queue_name, created_us, modified_us, delivery_delay, " \
  "delivery_paused, message_retention_period, qkey"
#define FLAREQ_MESSAGE_COLUMNS                                                             \
  "seq, id_tail, legacy_id, content_type, body, size_bytes, timestamp_ms, delay_seconds, " \
  "visible_at_ms, attempts"
// A queue's number (messages.qkey) from its account and queue ids, as a
// scalar subquery evaluated once per statement: FLAREQ_QKEY("?1", "?2").
#define FLAREQ_QKEY(account, queue) \
  "(SELECT qkey FROM queues WHERE account_id = " account " AND queue_id = " queue ")"

inline queue_record read_queue(statement& s) {
  queue_record q;
  q.account_id = s.column_text(0);
  q.queue_id = s.column_text(1);
  q.queue_name = s.column_text(2);
  q.created_us = s.column_int64(3);
  q.modified_us = s.column_int64(4);
  q.settings.delivery_delay = s.column_int64(5);
  q.settings.delivery_paused = s.column_int64(6) != 0;
  q.settings.message_retention_period = s.column_int64(7);
  q.key = s.column_int64(8);
  return q;
}

// A message's id from its seq, id_tail and legacy_id columns at first..first+2.
inline std::string read_message_id(statement& s, int first) {
  if (!s.column_is_null(first + 2)) return std::string(s.column_text(first + 2));
  return message_id(s.column_int64(first), s.column_int64(first + 1));
}

// Reads FLAREQ_MESSAGE_COLUMNS (seq is column 0).
inline message_record read_message(statement& s, std::string_view account_id,
                                   std::string_view queue_id) {
  message_record r;
  r.id = read_message_id(s, 0);
  r.account_id = account_id;
  r.queue_id = queue_id;
  r.type = s.column_text(3) == "text" ? content_type::text : content_type::json;
  r.body = s.column_text(4);
  r.size_bytes = s.column_int64(5);
  r.timestamp_ms = s.column_int64(6);
  r.delay_seconds = s.column_int64(7);
  r.visible_at_ms = s.column_int64(8);
  r.attempts = s.column_int64(9);
  return r;
}

inline void bind_optional(statement& s, int index, const std::optional<std::int64_t>& v) {
  if (v) {
    s.bind(index, *v);
  } else {
    s.bind_null(index);
  }
}

inline void bind_optional(statement& s, int index, const std::optional<std::string>& v) {
  if (v) {
    s.bind(index, *v);
  } else {
    s.bind_null(index);
  }
}

inline std::optional<std::string> optional_text(statement& s, int index) {
  if (s.column_is_null(index)) return std::nullopt;
  return std::string(s.column_text(index));
}

inline std::optional<std::int64_t> optional_column(statement& s, int index) {
  if (s.column_is_null(index)) return std::nullopt;
  return s.column_int64(index);
}

}  // namespace flareq::storage::rows
