// HTTP/1.1 as RFC 9110 and 9112 say, as pure functions over Beast's types:
// the Date header, empty lines before a request, framing checks, read errors
// that are the client's, absolute-form targets, and the conversion of a
// parsed request into the API's http_request (the fuzz target uses it too).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "server/http/message.hpp"

namespace flareq::wire {

namespace http = boost::beast::http;

// The Date header's value (RFC 9110 §6.6.1), IMF-fixdate, for a time in
// seconds since the epoch; made once a second per thread.
std::string http_date(std::int64_t seconds);

// Drops the empty lines a client may send before a request line (RFC 9112
// §2.2). Returns false when the buffer ends in a lone CR that needs its LF.
bool skip_empty_lines(boost::beast::flat_buffer& buffer);

// Why the request's framing cannot be trusted (RFC 9112 §6.1, §6.3, §3.2),
// or "" when it can.
std::string framing_problem(const http::request<http::string_body>& req);

// Tells whether a read error is the client's malformed HTTP (answered 400)
// rather than a close, a time-out or a cancellation (answered nothing).
bool malformed(const boost::system::error_code& ec);

// The origin form of an absolute-form target (RFC 9112 §3.2.2):
// "http://host:port/path?q" -> "/path?q".
std::string origin_form(std::string_view target);

// Returns a header's value; a header sent twice counts as malformed ("").
std::optional<std::string> header(const http::request<http::string_body>& req,
                                  std::string_view name);

// The request as the API sees it, from its header section (never the
// trailers) and without its body. request_id is the client's X-Request-Id
// when short and printable, else "" (the caller makes one).
http_request to_http_request(const http::request<http::string_body>& raw, std::string remote);

// Writes an answer with flareq's headers (Server, Date, Content-Type,
// X-Request-Id, Allow, and the response's own); for HEAD, its header section
// alone (the Content-Length of the body a GET would get). A response with a
// stream is sent chunked (HTTP/1.0: until the close), each piece as it
// comes, and never kept alive. Returns false on an error.
boost::asio::awaitable<bool> write_answer(boost::beast::tcp_stream& stream, unsigned version,
                                          http_response& res, bool keep_alive,
                                          const std::string& request_id, bool head,
                                          std::chrono::milliseconds timeout,
                                          const std::string& date);

// After an error answer with "Connection: close": stops sending, then reads
// and drops what the client still sends (a body it had started, say), at
// most `most` bytes for `how_long`, so that closing does not reset the
// connection under the answer (RFC 9112 §9.6).
boost::asio::awaitable<void> linger(boost::beast::tcp_stream& stream, std::size_t most,
                                    std::chrono::milliseconds how_long);

}  // namespace flareq::wire
