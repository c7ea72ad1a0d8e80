// The message plane (see messages.hpp).
#include "server/handlers/messages.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <utility>

#include "server/api_error.hpp"
#include "server/base64.hpp"
#include "server/handlers/common.hpp"
#include "server/js_json.hpp"

namespace flareq::handlers {
namespace json = boost::json;
namespace {

using limits::default_pull_batch;
using limits::max_batch_bytes;
using limits::max_batch_messages;
using limits::max_message_bytes;
using limits::max_pull_batch;
using limits::max_visibility_timeout_ms;

// Reads a list of objects under key, each holding a string under field.
std::vector<const json::object*> object_list(const json::object& body, std::string_view key) {
  std::vector<const json::object*> out;
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  const json::array* a = v->if_array();
  if (a == nullptr) throw api_error(errc::body_invalid, std::string(key) + " must be an array");
  for (const json::value& item : *a) {
    out.push_back(&require_object(item, errc::body_invalid, std::string(key) + " entries"));
  }
  return out;
}

std::string required_string(const json::object& o, std::string_view key, std::string_view list) {
  auto s = optional_string(o, key, errc::body_invalid);
  if (!s) {
    throw api_error(errc::body_invalid,
                    "each entry of " + std::string(list) + " needs a string " + std::string(key));
  }
  return *s;
}

}  // namespace

storage::new_message parse_message(const json::value& message, std::int64_t max_delay_seconds) {
  const json::object& obj = require_object(message, errc::body_invalid, "a message");
  storage::new_message out;
  if (const json::value* type = obj.if_contains("content_type"); type && !type->is_null()) {
    const json::string* s = type->if_string();
    if (s != nullptr && *s == "text") {
      out.type = storage::content_type::text;
    } else if (s != nullptr && *s == "json") {
      out.type = storage::content_type::json;
    } else {
      throw api_error(errc::message_metadata_invalid, "content_type must be \"text\" or \"json\"");
    }
  }
  out.delay_seconds =
      optional_int(obj, "delay_seconds", 0, max_delay_seconds, errc::message_metadata_invalid);
  const json::value* body = obj.if_contains("body");
  if (body == nullptr) throw api_error(errc::body_invalid, "body is required");
  if (out.type == storage::content_type::text) {
    const json::string* s = body->if_string();
    if (s == nullptr) {
      throw api_error(errc::body_invalid, "body must be a string when content_type is \"text\"");
    }
    out.body.assign(s->data(), s->size());
  } else {
    out.body = js_stringify(*body);
  }
  if (storage::message_size(out.body) > max_message_bytes) {
    throw api_error(errc::message_too_large,
                    "the body is " + std::to_string(out.body.size()) + " bytes");
  }
  return out;
}

std::vector<storage::new_message> parse_batch(const json::value& body,
                                              std::int64_t max_delay_seconds) {
  const json::object& obj = require_object(body, errc::body_invalid, "the request body");
  auto batch_delay =
      optional_int(obj, "delay_seconds", 0, max_delay_seconds, errc::batch_delay_invalid);
  const json::value* list = obj.if_contains("messages");
  if (list == nullptr || list->is_null())
    throw api_error(errc::body_invalid, "messages is required");
  const json::array* messages = list->if_array();
  if (messages == nullptr) throw api_error(errc::body_invalid, "messages must be an array");
  if (messages->empty() || messages->size() > max_batch_messages) {
    throw api_error(errc::batch_count_invalid,
                    "the batch has " + std::to_string(messages->size()) + " messages");
  }
  std::vector<storage::new_message> out;
  std::int64_t total = 0;
  for (const json::value& m : *messages) {
    storage::new_message parsed = parse_message(m, max_delay_seconds);
    if (!parsed.delay_seconds) parsed.delay_seconds = batch_delay;
    total += storage::message_size(parsed.body);
    out.push_back(std::move(parsed));
  }
  if (total > max_batch_bytes) {
    throw api_error(errc::batch_too_large,
                    "the bodies add up to " + std::to_string(total) + " bytes");
  }
  return out;
}

json::value metrics_result(const storage::queue_metrics& m) {
  return {{"metadata", {{"metrics", metrics_json(m)}}}};
}

json::object message_json(const storage::message_record& m) {
  json::object metadata;
  metadata["CF-Content-Type"] = storage::to_string(m.type);
  metadata["CF-sourceMessageSource"] = "api";
  if (m.delay_seconds > 0) metadata["CF-msg-delay-secs"] = std::to_string(m.delay_seconds);
  json::object o;
  o["id"] = m.id;
  o["attempts"] = m.attempts;
  o["body"] = m.type == storage::content_type::text ? m.body : base64_encode(m.body);
  o["metadata"] = std::move(metadata);
  o["timestamp_ms"] = m.timestamp_ms;
  return o;
}

boost::asio::awaitable<handler_result> push_message(handler_context& ctx, const http_request& req,
                                                    const route_params& params) {
  storage::new_message message =
      parse_message(parse_json_body(req.body), ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), queue = queue_of(params),
             message = std::move(message)](storage::queue_store& store) {
    return store.push(account, queue, std::span(&message, 1));
  };
  co_return metrics_result(co_await run_store<storage::queue_metrics>(ctx, plane::message, op));
}

boost::asio::awaitable<handler_result> push_batch(handler_context& ctx, const http_request& req,
                                                  const route_params& params) {
  auto messages = parse_batch(parse_json_body(req.body), ctx.settings.max_delay_seconds);
  auto op = [account = account_of(params), queue = queue_of(params),
             messages = std::move(messages)](storage::queue_store& store) {
    return store.push(account, queue, messages);
  };
  co_return metrics_result(co_await run_store<storage::queue_metrics>(ctx, plane::message, op));
}

boost::asio::awaitable<handler_result> pull_messages(handler_context& ctx, const http_request& req,
                                                     const route_params& params) {
  json::value body = parse_json_body(req.body, true);
  const json::object& obj = require_object(body, errc::body_invalid, "the request body");
  std::int64_t batch_size = optional_int(obj, "batch_size", 1, max_pull_batch, errc::body_invalid)
                                .value_or(default_pull_batch);
  auto timeout =
      optional_int(obj, "visibility_timeout_ms", 1, max_visibility_timeout_ms, errc::body_invalid);
  auto op = [account = account_of(params), queue = queue_of(params), batch_size,
             timeout](storage::queue_store& store) {
    return store.pull(account, queue, batch_size, timeout);
  };
  storage::pull_result pulled = co_await run_store<storage::pull_result>(ctx, plane::message, op);
  json::array messages;
  for (const storage::leased_message& m : pulled.messages) {
    json::object o = message_json(m.message);
    o["lease_id"] = m.lease_id;
    messages.push_back(std::move(o));
  }
  json::object result;
  result["message_backlog_count"] = pulled.metrics.backlog_count;
  result["messages"] = std::move(messages);
  result["metadata"] = {{"metrics", metrics_json(pulled.metrics)}};
  co_return json::value(std::move(result));
}

boost::asio::awaitable<handler_result> ack_messages(handler_context& ctx, const http_request& req,
                                                    const route_params& params) {
  json::value body = parse_json_body(req.body, true);
  const json::object& obj = require_object(body, errc::body_invalid, "the request body");
  std::vector<std::string> acks;
  for (const json::object* a : object_list(obj, "acks")) {
    acks.push_back(required_string(*a, "lease_id", "acks"));
  }
  std::vector<storage::retry_request> retries;
  for (const json::object* r : object_list(obj, "retries")) {
    retries.push_back({required_string(*r, "lease_id", "retries"),
                       optional_int(*r, "delay_seconds", 0, ctx.settings.max_delay_seconds,
                                    errc::message_metadata_invalid)});
  }
  auto op = [account = account_of(params), queue = queue_of(params), acks = std::move(acks),
             retries = std::move(retries)](storage::queue_store& store) {
    return store.ack(account, queue, acks, retries);
  };
  storage::ack_result done = co_await run_store<storage::ack_result>(ctx, plane::message, op);
  json::object warnings;
  for (const auto& [lease, reason] : done.warnings) warnings[lease] = reason;
  co_return json::value{{"ackCount", done.ack_count},
                        {"retryCount", done.retry_count},
                        {"warnings", std::move(warnings)}};
}

boost::asio::awaitable<handler_result> peek_messages(handler_context& ctx, const http_request& req,
                                                     const route_params& params) {
  json::value body = parse_json_body(req.body, true);
  const json::object& obj = require_object(body, errc::body_invalid, "the request body");
  std::int64_t batch_size = optional_int(obj, "batch_size", 1, max_pull_batch, errc::body_invalid)
                                .value_or(default_pull_batch);
  auto op = [account = account_of(params), queue = queue_of(params), batch_size](
                storage::queue_store& store) { return store.peek(account, queue, batch_size); };
  auto peeked = co_await run_store<std::vector<storage::message_record>>(ctx, plane::message, op);
  json::array messages;
  for (const storage::message_record& m : peeked) {
    json::object o = message_json(m);
    o["ref"] = storage::message_ref(m.id);
    messages.push_back(std::move(o));
  }
  co_return json::value{{"messages", std::move(messages)}};
}

boost::asio::awaitable<handler_result> purge_messages(handler_context& ctx, const http_request& req,
                                                      const route_params& params) {
  json::value body = parse_json_body(req.body);
  const json::object& obj = require_object(body, errc::body_invalid, "the request body");
  if (const json::value* refs = obj.if_contains("refs"); refs == nullptr || refs->is_null()) {
    throw api_error(errc::body_invalid, "refs is required");
  }
  std::vector<std::string> refs;
  for (const json::object* r : object_list(obj, "refs")) {
    refs.push_back(required_string(*r, "ref", "refs"));
  }
  auto op = [account = account_of(params), queue = queue_of(params), refs = std::move(refs)](
                storage::queue_store& store) { return store.purge_messages(account, queue, refs); };
  auto done = co_await run_store<storage::purge_refs_result>(ctx, plane::message, op);
  json::object warnings;
  for (const auto& [ref, reason] : done.warnings) warnings[ref] = reason;
  co_return json::value{{"errors", json::array()}, {"warnings", std::move(warnings)}};
}

boost::asio::awaitable<handler_result> queue_metrics(handler_context& ctx, const http_request&,
                                                     const route_params& params) {
  auto op = [account = account_of(params), queue = queue_of(params)](storage::queue_store& store) {
    return store.metrics(account, queue);
  };
  co_return metrics_json(co_await run_store<storage::queue_metrics>(ctx, plane::message, op));
}

}  // namespace flareq::handlers
