// HTTP/1.1 helpers (see wire.hpp).
#include "server/http/wire.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <cstdio>
#include <ctime>
#include <vector>

namespace flareq::wire {
namespace beast = boost::beast;

// The Date header's value (RFC 9110 §6.6.1), IMF-fixdate; made once a
// second per I/O thread.
std::string http_date(std::int64_t seconds) {
  thread_local std::time_t made_at = 0;
  thread_local std::string made;
  auto now = static_cast<std::time_t>(seconds);
  if (now == made_at && !made.empty()) return made;
  std::tm utc{};
  gmtime_r(&now, &utc);
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char out[40];
  std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[utc.tm_wday],
                utc.tm_mday, months[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  made_at = now;
  made = out;
  return made;
}

// Drops the empty lines a client may send before a request line (RFC 9112
// §2.2). Returns false when the buffer ends in a lone CR that needs its LF.
bool skip_empty_lines(beast::flat_buffer& buffer) {
  for (;;) {
    auto data = static_cast<const char*>(buffer.data().data());
    std::size_t size = buffer.size();
    if (size == 0) return true;
    if (data[0] == '\n') {
      buffer.consume(1);
    } else if (data[0] == '\r' && size == 1) {
      return false;
    } else if (data[0] == '\r' && data[1] == '\n') {
      buffer.consume(2);
    } else {
      return true;
    }
  }
}

// Why the request's framing cannot be trusted (RFC 9112 §6.1, §6.3, §3.2),
// or "" when it can.
std::string framing_problem(const http::request<http::string_body>& req) {
  if (req.version() >= 11 && req.count(http::field::host) != 1) {
    return "an HTTP/1.1 request needs exactly one Host header";
  }
  if (req.count(http::field::transfer_encoding) == 0) return {};
  if (req.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
  if (req.count(http::field::content_length) != 0) {
    return "Transfer-Encoding and Content-Length together";
  }
  std::string codings;
  for (auto it = req.find(http::field::transfer_encoding);
       it != req.end() && it->name() == http::field::transfer_encoding; ++it) {
    if (!codings.empty()) codings += ",";
    codings += std::string(it->value());
  }
  std::string trimmed;
  for (char c : codings) {
    if (c != ' ' && c != '\t') trimmed += c;
  }
  if (!beast::iequals(trimmed, "chunked")) {
    return "Transfer-Encoding " + codings + " is not supported: only chunked";
  }
  return {};
}

// Tells whether a read error is the client's malformed HTTP (answered 400)
// rather than a close, a time-out or a cancellation (answered nothing).
bool malformed(const boost::system::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::need_more && ec != http::error::header_limit &&
         ec != http::error::body_limit;
}

// The origin form of an absolute-form target (RFC 9112 §3.2.2):
// "http://host:port/path?q" -> "/path?q".
std::string origin_form(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && beast::iequals(target.substr(0, scheme.size()), scheme)) {
      std::string_view rest = target.substr(scheme.size());
      std::size_t path = rest.find_first_of("/?");
      if (path == std::string_view::npos) return "/";
      if (rest[path] == '?') return "/" + std::string(rest.substr(path));
      return std::string(rest.substr(path));
    }
  }
  return std::string(target);
}

// Returns a header's value; a header sent twice counts as malformed ("").
std::optional<std::string> header(const http::request<http::string_body>& req,
                                  std::string_view name) {
  auto it = req.find(name);
  if (it == req.end()) return std::nullopt;
  if (req.count(name) > 1) return std::string();
  return std::string(it->value());
}

http_request to_http_request(const http::request<http::string_body>& raw, std::string remote) {
  http_request req;
  req.method = std::string(raw.method_string());
  req.target = origin_form(raw.target());
  req.authorization = header(raw, "Authorization");
  req.auth_email = header(raw, "X-Auth-Email");
  req.auth_key = header(raw, "X-Auth-Key");
  req.last_event_id = header(raw, "Last-Event-ID");
  req.remote = std::move(remote);
  auto given = header(raw, "X-Request-Id");
  if (given && !given->empty() && given->size() <= 64 &&
      std::all_of(given->begin(), given->end(), [](char c) { return c > ' ' && c < 0x7f; })) {
    req.request_id = *given;
  }
  return req;
}

// Writes the answer; for HEAD, its header section alone (the
// Content-Length of the body a GET would get).
boost::asio::awaitable<bool> write_answer(boost::beast::tcp_stream& stream, unsigned version,
                                          http_response& res, bool keep_alive,
                                          const std::string& request_id, bool head,
                                          std::chrono::milliseconds timeout,
                                          const std::string& date) {
  using boost::asio::as_tuple;
  using boost::asio::use_awaitable;
  http::response<http::string_body> out{static_cast<http::status>(res.status), version};
  out.set(http::field::server, "flareq/" FLAREQ_VERSION);
  out.set(http::field::date, date);
  out.set(http::field::content_type, res.content_type);
  out.set("X-Request-Id", request_id);
  if (!res.allow.empty()) out.set(http::field::allow, res.allow);
  for (const auto& [name, value] : res.headers) out.set(name, value);
  boost::system::error_code ec;
  std::size_t n = 0;
  stream.expires_after(timeout);
  if (res.stream) {
    // Chunked for HTTP/1.1; HTTP/1.0 reads the body until the close.
    bool chunked = version >= 11;
    out.keep_alive(false);
    out.set(http::field::cache_control, "no-store");
    if (chunked) out.chunked(true);
    http::response_serializer<http::string_body> serializer(out);
    std::tie(ec, n) =
        co_await http::async_write_header(stream, serializer, as_tuple(use_awaitable));
    if (ec || head) co_return !ec;
    for (;;) {
      // No deadline while waiting for the next piece; one for each write.
      stream.expires_never();
      std::optional<std::string> piece = co_await res.stream->next();
      stream.expires_after(timeout);
      if (!piece) break;
      if (piece->empty()) continue;
      if (chunked) {
        std::tie(ec, n) = co_await boost::asio::async_write(
            stream, http::make_chunk(boost::asio::buffer(*piece)), as_tuple(use_awaitable));
      } else {
        std::tie(ec, n) = co_await boost::asio::async_write(stream, boost::asio::buffer(*piece),
                                                            as_tuple(use_awaitable));
      }
      if (ec) co_return false;
    }
    if (chunked) {
      std::tie(ec, n) = co_await boost::asio::async_write(stream, http::make_chunk_last(),
                                                          as_tuple(use_awaitable));
    }
    co_return !ec;
  }
  out.keep_alive(keep_alive);
  out.body() = std::move(res.body);
  out.prepare_payload();
  // The answer in one buffer and one write: the status line and the fields
  // as Beast's serializer writes them, then the body. (The serializer walks
  // a sequence of small buffers, which cost a small answer more than the
  // rest of its writing.)
  std::string wire;
  wire.reserve(256 + (head ? 0 : out.body().size()));
  wire.append(version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ");
  wire.append(std::to_string(out.result_int())).append(" ");
  wire.append(out.reason()).append("\r\n");
  for (const auto& field : out) {
    wire.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
  }
  wire.append("\r\n");
  if (!head) wire.append(out.body());
  std::tie(ec, n) =
      co_await boost::asio::async_write(stream, boost::asio::buffer(wire), as_tuple(use_awaitable));
  co_return !ec;
}

boost::asio::awaitable<void> linger(boost::beast::tcp_stream& stream, std::size_t most,
                                    std::chrono::milliseconds how_long) {
  boost::system::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  stream.expires_after(how_long);
  std::vector<char> sink(std::size_t{16} * 1024);
  for (std::size_t drained = 0; drained < most;) {
    auto [read_ec, n] = co_await stream.async_read_some(
        boost::asio::buffer(sink), boost::asio::as_tuple(boost::asio::use_awaitable));
    if (read_ec) break;
    drained += n;
  }
}

}  // namespace flareq::wire
