// The clock, snapshot and fault routes of the test harness (see harness.hpp;
// the journal's are in events.cpp).
#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "server/faults.hpp"
#include "server/handlers/common.hpp"
#include "server/handlers/harness.hpp"
#include "storage/clock.hpp"
#include "storage/ids.hpp"

namespace flareq::handlers {
namespace json = boost::json;
namespace {

constexpr errc bad_body = errc::control_body_invalid;

// Rejects fields the route does not know: a typo must not pass silently.
void only_fields(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const auto& field : body) {
    if (std::find(known.begin(), known.end(), field.key()) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      throw api_error(bad_body,
                      "unknown field " + std::string(field.key()) + " (known: " + list + ")");
    }
  }
}

json::value clock_json(const storage::clock& clock) {
  std::int64_t us = clock.now_us();
  return json::object{{"now_ms", us / 1000},
                      {"now", storage::format_rfc3339_us(us)},
                      {"mode", clock.manual() ? "manual" : "system"}};
}

// Snapshot names become file names: a letter or digit, then letters,
// digits, '.', '_' or '-', at most 64 in all.
std::string snapshot_name(std::string_view name) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool valid = !name.empty() && name.size() <= 64 && ok(name.front()) &&
               std::all_of(name.begin(), name.end(),
                           [&](char c) { return ok(c) || c == '.' || c == '_' || c == '-'; });
  if (!valid) {
    throw api_error(bad_body,
                    "a snapshot name is 1 to 64 letters, digits, '.', '_' or '-', starting with "
                    "a letter or digit");
  }
  return std::string(name);
}

json::value snapshot_json(const storage::snapshot_info& s) {
  return json::object{{"name", s.name},
                      {"size_bytes", s.size_bytes},
                      {"created_ms", s.created_ms},
                      {"created_at", storage::format_rfc3339_us(s.created_ms * 1000)}};
}

json::value fault_json(const fault_rule& r) {
  json::object o{{"id", r.id},
                 {"method", r.method},
                 {"route", r.route},
                 {"account_id", r.account_id},
                 {"queue_id", r.queue_id},
                 {"action", to_string(r.action)},
                 {"probability", r.probability},
                 {"fired", r.fired}};
  if (r.action == fault_action::error) {
    o["status"] = r.status;
    o["code"] = r.code;
    o["message"] = r.message;
  }
  if (r.action == fault_action::latency) o["latency_ms"] = r.latency_ms;
  o["times"] = r.times ? json::value(*r.times) : json::value(nullptr);
  return o;
}

std::string optional_text(const json::object& body, std::string_view name) {
  return optional_string(body, name, bad_body).value_or("");
}

fault_rule read_fault(const json::object& body, std::span<const std::string_view> routes) {
  only_fields(body, {"method", "route", "account_id", "queue_id", "action", "status", "code",
                     "message", "latency_ms", "probability", "times"});
  fault_rule r;
  r.method = optional_text(body, "method");
  constexpr std::array<std::string_view, 5> methods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  if (!r.method.empty() && std::find(methods.begin(), methods.end(), r.method) == methods.end()) {
    throw api_error(bad_body, "method must be GET, POST, PUT, PATCH or DELETE");
  }
  r.route = optional_text(body, "route");
  if (!r.route.empty() && std::find(routes.begin(), routes.end(), r.route) == routes.end()) {
    std::string list;
    for (std::string_view name : routes) list += (list.empty() ? "" : ", ") + std::string(name);
    throw api_error(bad_body, "route must be one of " + list);
  }
  r.account_id = optional_text(body, "account_id");
  r.queue_id = optional_text(body, "queue_id");
  auto action = optional_string(body, "action", bad_body);
  if (!action || !parse_fault_action(*action)) {
    throw api_error(bad_body, "action must be error, latency, close or answer_lost");
  }
  r.action = *parse_fault_action(*action);
  r.status = static_cast<int>(optional_int(body, "status", 400, 599, bad_body).value_or(500));
  r.code = static_cast<int>(optional_int(body, "code", 1, 9'999'999, bad_body)
                                .value_or(r.status == 429   ? 971
                                          : r.status >= 500 ? 15000
                                                            : 10000));
  r.message = optional_string(body, "message", bad_body).value_or("Injected fault");
  auto latency = optional_int(body, "latency_ms", 0, 600'000, bad_body);
  if (r.action == fault_action::latency && !latency) {
    throw api_error(bad_body, "latency_ms is required for action latency");
  }
  r.latency_ms = latency.value_or(0);
  r.times = optional_int(body, "times", 1, 1'000'000'000, bad_body);
  if (const json::value* p = body.if_contains("probability"); p != nullptr && !p->is_null()) {
    if (!p->is_number()) throw api_error(bad_body, "probability must be a number from 0 to 1");
    r.probability = p->to_number<double>();
    if (!(r.probability >= 0.0 && r.probability <= 1.0)) {
      throw api_error(bad_body, "probability must be a number from 0 to 1");
    }
  }
  return r;
}

}  // namespace

boost::asio::awaitable<handler_result> get_clock(handler_context& ctx, const http_request&,
                                                 const route_params&) {
  co_return clock_json(ctx.clock);
}

boost::asio::awaitable<handler_result> move_clock(handler_context& ctx, const http_request& req,
                                                  const route_params&) {
  json::value parsed = parse_json_body(req.body);
  const json::object& body = require_object(parsed, bad_body, "the body");
  only_fields(body, {"advance_ms", "now_ms"});
  auto advance = optional_int(body, "advance_ms", 0, storage::last_clock_ms, bad_body);
  auto to = optional_int(body, "now_ms", 0, storage::last_clock_ms, bad_body);
  if (advance.has_value() == to.has_value()) {
    throw api_error(bad_body, "give exactly one of advance_ms or now_ms");
  }
  auto* manual = dynamic_cast<storage::fake_clock*>(&ctx.clock);
  if (manual == nullptr) {
    throw api_error(errc::clock_not_manual,
                    "start flareq with --clock manual (FLAREQ_CLOCK=manual) to move it");
  }
  std::int64_t target_us = to ? *to * 1000 : manual->now_us() + *advance * 1000;
  if (target_us / 1000 > storage::last_clock_ms) {
    throw api_error(bad_body, "the clock stops at 9999-12-31T23:59:59.999Z (now_ms " +
                                  std::to_string(storage::last_clock_ms) + ")");
  }
  if (!manual->move_to_us(target_us)) {
    throw api_error(bad_body, "the clock never goes backwards: now_ms " +
                                  std::to_string(target_us / 1000) + " is before " +
                                  std::to_string(manual->now_ms()));
  }
  // What became due is journalled (and expired messages leave) before the
  // answer, so the next request and the event stream see it.
  // The move itself is journalled too (a dashboard follows the clock by it).
  auto op = [](storage::queue_store& store) {
    std::int64_t due = store.sweep();
    store.record_clock_moved();
    return due;
  };
  std::int64_t events = co_await run_store<std::int64_t>(ctx, plane::control, op);
  json::value out = clock_json(ctx.clock);
  out.as_object()["events"] = events;
  co_return out;
}

boost::asio::awaitable<handler_result> save_snapshot(handler_context& ctx, const http_request& req,
                                                     const route_params&) {
  json::value parsed = parse_json_body(req.body);
  const json::object& body = require_object(parsed, bad_body, "the body");
  only_fields(body, {"name"});
  auto name = optional_string(body, "name", bad_body);
  if (!name) throw api_error(bad_body, "name is required");
  auto op = [n = snapshot_name(*name)](storage::queue_store& store) {
    return store.save_snapshot(n);
  };
  auto saved = co_await run_store<storage::snapshot_info>(ctx, plane::control, op, true);
  co_return snapshot_json(saved);
}

boost::asio::awaitable<handler_result> list_snapshots(handler_context& ctx, const http_request&,
                                                      const route_params&) {
  auto op = [](storage::queue_store& store) { return store.list_snapshots(); };
  auto all = co_await run_store<std::vector<storage::snapshot_info>>(ctx, plane::control, op);
  json::array out;
  for (const auto& s : all) out.push_back(snapshot_json(s));
  co_return json::value(std::move(out));
}

boost::asio::awaitable<handler_result> restore_snapshot(handler_context& ctx, const http_request&,
                                                        const route_params& params) {
  auto op = [n = snapshot_name(params.get("name"))](storage::queue_store& store) {
    store.restore_snapshot(n);
    return true;
  };
  co_await run_store<bool>(ctx, plane::control, op, true);
  co_return json::value{{"restored", params.get("name")}};
}

boost::asio::awaitable<handler_result> delete_snapshot(handler_context& ctx, const http_request&,
                                                       const route_params& params) {
  auto op = [n = snapshot_name(params.get("name"))](storage::queue_store& store) {
    store.delete_snapshot(n);
    return true;
  };
  co_await run_store<bool>(ctx, plane::control, op);
  co_return json::value{{"deleted", params.get("name")}};
}

boost::asio::awaitable<handler_result> add_fault(handler_context& ctx, const http_request& req,
                                                 const route_params&) {
  json::value parsed = parse_json_body(req.body);
  fault_rule rule = read_fault(require_object(parsed, bad_body, "a fault rule"), ctx.route_names);
  co_return fault_json(ctx.faults.add(std::move(rule)));
}

boost::asio::awaitable<handler_result> list_faults(handler_context& ctx, const http_request&,
                                                   const route_params&) {
  json::array out;
  for (const fault_rule& r : ctx.faults.list()) out.push_back(fault_json(r));
  co_return json::value(std::move(out));
}

boost::asio::awaitable<handler_result> clear_faults(handler_context& ctx, const http_request&,
                                                    const route_params&) {
  co_return json::value{{"deleted", ctx.faults.clear()}};
}

boost::asio::awaitable<handler_result> delete_fault(handler_context& ctx, const http_request&,
                                                    const route_params& params) {
  std::string id(params.get("fault_id"));
  if (!ctx.faults.remove(id)) throw api_error(errc::fault_not_found, "no fault rule " + id);
  co_return json::value{{"deleted", id}};
}

}  // namespace flareq::handlers
