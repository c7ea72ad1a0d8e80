// The one error type of the HTTP API. Each errc names a situation of
// decisions.md; one table gives its HTTP status, Cloudflare code and message.
// Handlers throw api_error; the app renders it through the envelope.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace flareq {

enum class errc {
  missing_credentials,        // 400  9106
  invalid_headers,            // 400  6003 (+ error_chain)
  authentication,             // 403 10000
  no_route,                   // 400  7003 + 7000
  method_not_allowed,         // 405 10405
  body_not_json,              // 400 10208
  body_invalid,               // 400 10207 (message plane)
  message_metadata_invalid,   // 400 10203 (content_type, delay_seconds)
  message_too_large,          // 413 10204
  batch_too_large,            // 413 10205
  batch_count_invalid,        // 400 10206
  queue_does_not_exist,       // 404 10104 (message plane)
  queue_name_taken,           // 409 11009
  control_body_invalid,       // 400 10026 (queues and consumers)
  query_invalid,              // 400 10026 (a query parameter)
  queue_settings_invalid,     // 400 100128 (queue settings)
  consumer_settings_invalid,  // 400 100127 (consumer settings, dead-letter queue)
  batch_delay_invalid,        // 400 10202 (messages/batch delay_seconds)
  queue_id_malformed,         // 400 10107 (message plane)
  queue_not_found,            // 404 11000 (control plane)
  consumer_not_found,         // 404 11000
  subscription_not_found,     // 404 11000
  invalid_queue_name,         // 400 11003
  consumer_exists,            // 409 11004
  delivery_paused,            // 409 11010
  request_too_large,          // 413 10205 (transport limit)
  headers_too_large,          // 431  6003 (transport limit)
  too_many_connections,       // 503 15000 (transport limit)
  internal,                   // 500 15000
  clock_not_manual,           // 409 10026 (POST /_flareq/clock on the system clock)
  snapshot_not_found,         // 404 11000
  snapshot_unusable,          // 422 10026 (a damaged or too new snapshot)
  fault_not_found,            // 404 11000
  fault_injected,             // status, code and message of a fault rule
  not_ready,                  // 503 15000 (readiness); stays last (errc_count)
};

// How many errc values there are: api_error.cpp checks that its table has
// an entry for each.
inline constexpr std::size_t errc_count = static_cast<std::size_t>(errc::not_ready) + 1;

// One entry of the envelope's errors array.
struct error_detail {
  int code = 0;
  std::string message;
  std::vector<error_detail> error_chain;
};

class api_error : public std::exception {
 public:
  // The table's message, followed by ": detail" when detail is given.
  explicit api_error(errc code, std::string_view detail = {});

  // 6003 with the given chain (6111, 6102, 6103).
  static api_error invalid_headers(std::vector<error_detail> chain);
  // 7003 naming the path, then 7000.
  static api_error no_route(std::string_view path);
  // An error a fault rule asked for (fault_injected), as the rule says.
  static api_error injected(int status, int code, std::string message);

  errc code() const { return code_; }
  int status() const;
  const std::vector<error_detail>& errors() const { return errors_; }
  const char* what() const noexcept override { return errors_.front().message.c_str(); }

 private:
  api_error(errc code, std::vector<error_detail> errors);

  errc code_;
  std::vector<error_detail> errors_;
  int status_ = 0;  // when not 0: instead of the table's
};

}  // namespace flareq
