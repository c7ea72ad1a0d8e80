// The journal's routes (see harness.hpp): pages of events, and the live
// stream as server-sent events (text/event-stream): each event is
// "id: N", "event: TYPE", "data: JSON", and a blank line. A stream reads
// what was committed after its last id, then waits for the writer's next
// commit (event_hub). A comment line every 5 s keeps proxies from closing it
// and finds clients that have gone (their connection is then freed).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "server/event_hub.hpp"
#include "server/handlers/common.hpp"
#include "server/handlers/harness.hpp"
#include "storage/ids.hpp"

namespace flareq::handlers {
namespace json = boost::json;
namespace {

constexpr std::int64_t max_events_per_page = 1000;
constexpr std::chrono::seconds keep_alive{5};

json::value event_json(const storage::journal_event& e) {
  json::object o{{"id", e.id},
                 {"type", storage::to_string(e.type)},
                 {"at_ms", e.at_ms},
                 {"at", storage::format_rfc3339_us(e.at_ms * 1000)}};
  if (!e.account_id.empty()) o["account_id"] = e.account_id;
  if (!e.queue_id.empty()) o["queue_id"] = e.queue_id;
  if (!e.message_id.empty()) o["message_id"] = e.message_id;
  if (e.lease_id) o["lease_id"] = *e.lease_id;
  if (e.attempt) o["attempt"] = *e.attempt;
  if (e.delay_seconds) o["delay_seconds"] = *e.delay_seconds;
  if (e.until_ms) o["until_ms"] = *e.until_ms;
  if (e.to_queue_id) o["to_queue_id"] = *e.to_queue_id;
  if (e.count) o["count"] = *e.count;
  if (e.name) o["name"] = *e.name;
  return o;
}

std::string last_value(std::string_view target, std::string_view key) {
  auto values = query_values(target, key);
  return values.empty() ? std::string() : values.back();
}

// after= as a whole number from 0 (an event id); fallback when absent.
std::int64_t event_id(std::string_view text, std::string_view what) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) {
    throw api_error(errc::query_invalid, std::string(what) + " must be an event id (0 or more)" +
                                             (what == "after" ? ", or now" : ""));
  }
  return n;
}

storage::event_query read_query(const http_request& req, std::int64_t default_limit) {
  storage::event_query q;
  q.account_id = last_value(req.target, "account");
  q.queue_id = last_value(req.target, "queue");
  q.message_id = last_value(req.target, "message");
  if (std::string after = last_value(req.target, "after"); after == "now") {
    q.after = -1;  // resolved by after_now()
  } else if (!after.empty()) {
    q.after = event_id(after, "after");
  }
  q.limit = query_whole_number(req.target, "limit", default_limit, max_events_per_page);
  return q;
}

class event_stream final : public body_stream {
 public:
  event_stream(handler_context& ctx, storage::event_query query)
      : ctx_(ctx), query_(std::move(query)) {}

  boost::asio::awaitable<std::optional<std::string>> next() override {
    if (!started_) {
      started_ = true;
      co_return std::string(": flareq events\nretry: 1000\n\n");
    }
    for (;;) {
      std::uint64_t seen = ctx_.events.version();
      std::vector<storage::journal_event> found;
      try {
        auto op = [q = query_](storage::queue_store& store) { return store.events(q); };
        found =
            co_await call_storage<std::vector<storage::journal_event>>(ctx_.writer, std::move(op));
      } catch (const std::exception&) {
        co_return std::nullopt;  // storage is gone or stopping: the stream ends
      }
      if (!found.empty()) {
        query_.after = found.back().id;
        std::string out;
        for (const auto& e : found) {
          out += "id: " + std::to_string(e.id) + "\nevent: " + std::string(to_string(e.type)) +
                 "\ndata: " + json::serialize(event_json(e)) + "\n\n";
        }
        co_return out;
      }
      if (!co_await ctx_.events.wait(seen, keep_alive)) co_return std::nullopt;
      if (ctx_.events.version() == seen) co_return std::string(": keep-alive\n\n");
    }
  }

 private:
  handler_context& ctx_;
  storage::event_query query_;
  bool started_ = false;
};

// after=now: after the newest event there is when the request arrives.
boost::asio::awaitable<void> after_now(handler_context& ctx, storage::event_query& query) {
  if (query.after >= 0) co_return;
  auto op = [](storage::queue_store& store) { return store.last_event_id(); };
  query.after = co_await run_store<std::int64_t>(ctx, plane::control, op);
}

}  // namespace

boost::asio::awaitable<handler_result> list_events(handler_context& ctx, const http_request& req,
                                                   const route_params&) {
  storage::event_query query = read_query(req, 100);
  co_await after_now(ctx, query);
  auto op = [query](storage::queue_store& store) { return store.events(query); };
  auto found = co_await run_store<std::vector<storage::journal_event>>(ctx, plane::control, op);
  json::array out;
  for (const auto& e : found) out.push_back(event_json(e));
  handler_result result(std::move(out));
  // The next page starts after the last id shown.
  result.result_info = json::object{
      {"count", found.size()},
      {"last_id", found.empty() ? json::value(query.after) : json::value(found.back().id)}};
  co_return result;
}

boost::asio::awaitable<handler_result> stream_events(handler_context& ctx, const http_request& req,
                                                     const route_params&) {
  storage::event_query query = read_query(req, 100);
  // Last-Event-ID (a reconnecting EventSource sends it) wins over after=.
  if (req.last_event_id && !req.last_event_id->empty()) {
    query.after = event_id(*req.last_event_id, "Last-Event-ID");
  }
  co_await after_now(ctx, query);
  handler_result out;
  out.stream = std::make_shared<event_stream>(ctx, std::move(query));
  out.content_type = "text/event-stream";
  co_return out;
}

}  // namespace flareq::handlers
