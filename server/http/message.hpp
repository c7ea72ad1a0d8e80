// What the transport and the API exchange: a request as the API sees it, the
// answer, the errors the transport finds before a request can be handled,
// and the handler interface the transport calls (the app implements it).
// The transport knows no Cloudflare code: the handler renders these errors.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flareq {

// The parts of an HTTP request the API looks at.
struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string body;
  std::optional<std::string> authorization;  // headers; nullopt when absent
  std::optional<std::string> auth_email;
  std::optional<std::string> auth_key;
  std::optional<std::string> last_event_id;  // an event stream's resume point
  std::string remote;                        // peer address, for the log
  std::string request_id;                    // sent back in X-Request-Id and named in the log line
};

// A body sent piece by piece as it comes (an event stream): chunked, and
// the connection closes after it.
class body_stream {
 public:
  virtual ~body_stream() = default;
  // The next piece of the body, or nullopt at its end. Runs on the
  // connection's executor; ends soon after the handler's stopping().
  virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
};

struct http_response {
  unsigned status = 200;
  std::string body;   // a JSON envelope (for HEAD, what a GET would get), unless stream
  std::string allow;  // the Allow header of a 405
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers{};  // more headers to send
  std::shared_ptr<body_stream> stream{};  // when set: the body, instead of body
  bool drop = false;  // close the connection without answering (an injected fault)
};

// A request the transport answers itself, before or instead of handling it.
struct transport_error {
  enum class kind {
    too_many_connections,  // over --max-connections
    headers_too_large,     // over --max-header-bytes
    body_too_large,        // over --max-body-bytes
    malformed,             // bad framing or syntax (RFC 9112)
  };
  kind what;
  std::string detail;  // what exactly, in words for the client
};

// What the transport hands requests to. Called from any I/O thread at once.
class http_handler {
 public:
  virtual ~http_handler() = default;
  // Answers one request; never throws.
  virtual boost::asio::awaitable<http_response> handle(const http_request& req) = 0;
  // Renders a transport error (and logs it like any other request).
  virtual http_response reject(const http_request& req, const transport_error& error,
                               std::chrono::steady_clock::time_point started) const = 0;
  // The time the Date header shows, in seconds since the epoch.
  virtual std::int64_t now_seconds() const = 0;
  // The start of this server's request ids (a counter follows); asked once.
  virtual std::string request_id_prefix() = 0;
  // The server is stopping: streams must end. Called once, from any thread.
  virtual void stopping() {}
};

}  // namespace flareq
