// The error table (see api_error.hpp and decisions.md, Errors).
#include "server/api_error.hpp"

#include <utility>

namespace flareq {
namespace {

struct entry {
  errc code;
  int status;
  int cf_code;
  std::string_view message;
};

constexpr entry table[] = {
    {errc::missing_credentials, 400, 9106,
     "Missing X-Auth-Key, X-Auth-Email or Authorization headers"},
    {errc::invalid_headers, 400, 6003, "Invalid request headers"},
    {errc::authentication, 403, 10000, "Authentication error"},
    {errc::no_route, 400, 7000, "No route for that URI"},
    {errc::method_not_allowed, 405, 10405, "Method not allowed"},
    {errc::body_not_json, 400, 10208, "Request body is not valid JSON"},
    {errc::body_invalid, 400, 10207, "Request body does not match the expected schema"},
    {errc::message_metadata_invalid, 400, 10203, "Message metadata is invalid"},
    {errc::message_too_large, 413, 10204, "Message is larger than 128000 bytes"},
    {errc::batch_too_large, 413, 10205, "Batch is larger than 256000 bytes"},
    {errc::batch_count_invalid, 400, 10206, "Batch must hold 1 to 100 messages"},
    {errc::queue_does_not_exist, 404, 10104, "Queue does not exist"},
    {errc::queue_name_taken, 409, 11009, "A queue with that name already exists"},
    {errc::control_body_invalid, 400, 10026, "Request body is invalid"},
    {errc::query_invalid, 400, 10026, "Invalid query parameter"},
    {errc::queue_settings_invalid, 400, 100128, "The specified queue settings are invalid"},
    {errc::consumer_settings_invalid, 400, 100127, "The specified consumer settings are invalid"},
    {errc::batch_delay_invalid, 400, 10202, "Batch delay is invalid"},
    {errc::queue_id_malformed, 400, 10107, "Malformed queue ID"},
    {errc::queue_not_found, 404, 11000, "Queue not found"},
    {errc::consumer_not_found, 404, 11000, "Consumer not found"},
    {errc::subscription_not_found, 404, 11000, "Subscription not found"},
    {errc::invalid_queue_name, 400, 11003,
     "Invalid queue name: use 1 to 63 letters, digits or dashes, starting and ending with a "
     "letter or digit"},
    {errc::consumer_exists, 409, 11004, "consumer_exists"},
    {errc::delivery_paused, 409, 11010, "queue_delivery_paused"},
    {errc::request_too_large, 413, 10205, "Request body is larger than the server accepts"},
    {errc::not_ready, 503, 15000, "Service not ready"},
    {errc::headers_too_large, 431, 6003, "Invalid request headers"},
    {errc::too_many_connections, 503, 15000, "Too many connections"},
    {errc::internal, 500, 15000, "Unknown internal error"},
    {errc::clock_not_manual, 409, 10026, "The clock is the system clock"},
    {errc::snapshot_not_found, 404, 11000, "Snapshot not found"},
    {errc::snapshot_unusable, 422, 10026, "The snapshot cannot be restored"},
    {errc::fault_not_found, 404, 11000, "Fault rule not found"},
    {errc::fault_injected, 500, 15000, "Injected fault"},
};

// Every errc has exactly one row (a new errc without one fails to build).
constexpr bool covers_every_errc() {
  for (std::size_t i = 0; i < errc_count; ++i) {
    int rows = 0;
    for (const entry& e : table) rows += static_cast<std::size_t>(e.code) == i ? 1 : 0;
    if (rows != 1) return false;
  }
  return std::size(table) == errc_count;
}
static_assert(covers_every_errc(), "the error table needs one row per errc");

const entry& lookup(errc code) {
  for (const entry& e : table) {
    if (e.code == code) return e;
  }
  return table[std::size(table) - 1];
}

}  // namespace

api_error::api_error(errc code, std::string_view detail) : code_(code) {
  const entry& e = lookup(code);
  std::string message(e.message);
  if (!detail.empty()) {
    message += ": ";
    message += detail;
  }
  errors_.push_back({e.cf_code, std::move(message), {}});
}

api_error::api_error(errc code, std::vector<error_detail> errors)
    : code_(code), errors_(std::move(errors)) {}

api_error api_error::invalid_headers(std::vector<error_detail> chain) {
  const entry& e = lookup(errc::invalid_headers);
  return api_error(
      errc::invalid_headers,
      std::vector<error_detail>{{e.cf_code, std::string(e.message), std::move(chain)}});
}

api_error api_error::no_route(std::string_view path) {
  const entry& e = lookup(errc::no_route);
  std::string first = "Could not route to ";
  first += path;
  first += ", perhaps your object identifier is invalid?";
  return api_error(errc::no_route, std::vector<error_detail>{
                                       {7003, std::move(first), {}},
                                       {e.cf_code, std::string(e.message), {}},
                                   });
}

api_error api_error::injected(int status, int code, std::string message) {
  api_error e(errc::fault_injected, std::vector<error_detail>{{code, std::move(message), {}}});
  e.status_ = status;
  return e;
}

int api_error::status() const {
  return status_ != 0 ? status_ : lookup(code_).status;
}

}  // namespace flareq
