// Beast/Asio transport (see server.hpp). Modelled on Beast 1.81's awaitable
// and advanced servers; every completion token is named, since 1.81 has no
// default token.
#include "server/http/server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include "server/app.hpp"
#include "server/log.hpp"

namespace flareq {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One connection. Its members are touched only on its strand, but for
// `stream`'s cancellation, which stop() also posts to that strand.
struct connection {
  explicit connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // a request is being handled or answered
};

std::string random_prefix() {
  std::random_device device;
  char out[17];
  std::snprintf(out, sizeof out, "%08x", static_cast<unsigned>(device()));
  return out;
}

// Bytes read and thrown away after an error answer, at most, and for how
// long (RFC 9112 §9.6: a lingering close lets the client read the answer).
constexpr std::size_t linger_bytes = 64 * 1024 * 1024;
// Connections over --max-connections linger too, briefly and only this many
// at once: the rest are closed at once, so that they cannot hold descriptors.
constexpr int max_lingering_turned_away = 16;
constexpr std::chrono::milliseconds turned_away_linger{250};
// Beast 1.81 throws (out of the I/O thread) for a field value over 65,533
// bytes. The read buffer holds at most this much, so no header or trailer
// field can reach that size: such a request fails as buffer_overflow (400)
// instead.
constexpr std::size_t max_read_buffer = 65'536;
constexpr std::chrono::milliseconds linger_time{2000};

// The Date header's value (RFC 9110 §6.6.1), IMF-fixdate; made once a
// second per I/O thread.
std::string http_date() {
  thread_local std::time_t made_at = 0;
  thread_local std::string made;
  std::time_t now = std::time(nullptr);
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

}  // namespace

struct http_server::impl {
  impl(app& a, const logger& l, http_limits lim)
      : handler(a),
        log(l),
        limits(lim),
        strand(asio::make_strand(ioc)),
        acceptor(strand),
        signals(strand),
        backoff(strand) {}

  app& handler;
  const logger& log;
  http_limits limits;
  asio::io_context ioc;
  // The acceptor, the signal set and the back-off timer live on one strand,
  // which stop() posts to.
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer backoff;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  // Request ids: a random prefix per process, then a counter.
  std::string id_prefix = random_prefix();
  std::atomic<std::uint64_t> request_counter{1};
  std::atomic<int> lingering_turned_away{0};
  std::mutex mutex;
  std::unordered_set<std::shared_ptr<connection>> connections;  // guarded by mutex

  asio::awaitable<void> accept_loop() {
    // When descriptors ran out, said at most once a minute.
    std::optional<std::chrono::steady_clock::time_point> last_complaint;
    std::uint64_t waited = 0;
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc),
                                                         asio::as_tuple(asio::use_awaitable));
      if (stopping.load()) co_return;
      // EMFILE, ENFILE: the client stays in the listen backlog; trying
      // again at once would spin. (Values, not errc conditions: UBSan
      // trips over Boost 1.81's constexpr categories.)
      if (ec && (ec.value() == EMFILE || ec.value() == ENFILE)) {
        auto now = std::chrono::steady_clock::now();
        ++waited;
        if (!last_complaint || now - *last_complaint > std::chrono::minutes(1)) {
          log.write(log_level::error,
                    "accept: " + ec.message() + " (" + std::to_string(waited) +
                        " times so far): new connections wait until others close; raise "
                        "`ulimit -n` or lower --max-connections");
          last_complaint = now;
        }
        backoff.expires_after(std::chrono::milliseconds(100));
        co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (ec) {
        if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
        log.write(log_level::warn, "accept: " + ec.message());
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto conn = std::make_shared<connection>(std::move(socket));
      bool full = false;
      {
        std::lock_guard lock(mutex);
        full = connections.size() >= limits.max_connections;
        if (!full) connections.insert(conn);
      }
      asio::co_spawn(conn->stream.get_executor(), full ? turn_away(conn) : serve(conn),
                     asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<connection> conn) {
    try {
      co_await serve_requests(*conn);
    } catch (const std::exception& e) {
      log.write(log_level::error, std::string("connection: ") + e.what());
    }
    boost::system::error_code ignored;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn->stream.close();
    std::lock_guard lock(mutex);
    connections.erase(conn);
    if (stopping.load() && connections.empty()) disarm_signals();
  }

  // Answers a connection over the limit with 503 and closes it, without
  // reading its request.
  asio::awaitable<void> turn_away(std::shared_ptr<connection> conn) {
    http_request req;
    req.method = "-";
    req.target = "-";
    req.request_id = new_request_id();
    boost::system::error_code ec;
    auto endpoint = conn->stream.socket().remote_endpoint(ec);
    req.remote = ec ? "-" : endpoint.address().to_string();
    http_response res = handler.reject(
        req,
        api_error(errc::too_many_connections,
                  "the limit is " + std::to_string(limits.max_connections) + " connections"),
        std::chrono::steady_clock::now());
    co_await write(*conn, 11, res, false, req.request_id, false);
    // A short linger so the client reads the 503, for a few at a time only:
    // these connections are outside --max-connections.
    if (lingering_turned_away.fetch_add(1) < max_lingering_turned_away) {
      co_await linger(*conn, 64 * 1024, turned_away_linger);
    }
    lingering_turned_away.fetch_sub(1);
    conn->stream.close();
  }

  // After an error answer with "Connection: close": stop sending, then read
  // and drop what the client still sends (a body it had started, say) for a
  // while, so that closing does not reset the connection under the answer.
  asio::awaitable<void> linger(connection& conn, std::size_t most = linger_bytes,
                               std::chrono::milliseconds how_long = linger_time) {
    boost::system::error_code ec;
    conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    conn.stream.expires_after(how_long);
    std::vector<char> sink(16 * 1024);
    for (std::size_t drained = 0; drained < most;) {
      auto [read_ec, n] = co_await conn.stream.async_read_some(asio::buffer(sink),
                                                               asio::as_tuple(asio::use_awaitable));
      if (read_ec) break;
      drained += n;
    }
  }

  // Answers an error found before the request could be handled, then
  // closes with a linger.
  asio::awaitable<void> refuse(connection& conn, const http_request& req, unsigned version,
                               const api_error& error,
                               std::chrono::steady_clock::time_point started) {
    http_response res = handler.reject(req, error, started);
    co_await write(conn, version, res, false, req.request_id, req.method == "HEAD");
    co_await linger(conn);
  }

  asio::awaitable<void> serve_requests(connection& conn) {
    beast::flat_buffer buffer(max_read_buffer);
    std::string remote;
    {
      boost::system::error_code ec;
      auto endpoint = conn.stream.socket().remote_endpoint(ec);
      remote = ec ? "-" : endpoint.address().to_string();
    }
    for (;;) {
      if (stopping.load()) co_return;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
      parser.body_limit(limits.body_bytes);
      conn.busy = false;
      boost::system::error_code ec;
      std::size_t n = 0;
      // Idle: wait for the first byte of the next request, past any empty lines.
      conn.stream.expires_after(limits.idle_timeout);
      while (!skip_empty_lines(buffer) || buffer.size() == 0) {
        std::tie(ec, n) = co_await conn.stream.async_read_some(buffer.prepare(4096),
                                                               asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        buffer.commit(n);
      }
      // From here on a request is in flight: stop() lets it finish, and the
      // whole of it must arrive before the request deadline.
      conn.busy = true;
      auto started = std::chrono::steady_clock::now();
      conn.stream.expires_after(limits.request_timeout);
      std::tie(ec, n) = co_await http::async_read_header(conn.stream, buffer, parser,
                                                         asio::as_tuple(asio::use_awaitable));
      // n: the bytes of the start line and header section, as they came.
      if (!ec && n > limits.header_bytes) ec = http::error::header_limit;
      if (ec && ec != http::error::body_limit) {
        // Named first: GCC 12 mishandles braced temporaries inside co_await.
        std::optional<api_error> refusal;
        if (ec == http::error::header_limit) {
          refusal =
              api_error(errc::headers_too_large,
                        "the headers exceed " + std::to_string(limits.header_bytes) + " bytes");
        } else if (malformed(ec)) {
          refusal = malformed_request("Malformed request: " + ec.message());
        }
        // Otherwise closed, timed out, or cancelled by stop(): no answer.
        if (refusal) {
          http_request req = unread_request(remote);
          // The start line may have been read before the error; else a
          // HEAD is known by the first bytes still in the buffer.
          std::string_view start(static_cast<const char*>(buffer.data().data()), buffer.size());
          if (parser.get().method() == http::verb::head || start.starts_with("HEAD ")) {
            req.method = "HEAD";
          }
          co_await refuse(conn, req, 11, *refusal, started);
        }
        co_return;
      }
      http::request<http::string_body>& raw = parser.get();
      unsigned version = raw.version();
      // The header section alone: trailer fields, merged into the same
      // fields by the parser once the body is read, never count (RFC 9110 §6.5.1).
      http_request req = to_request(raw, remote);
      std::optional<api_error> refusal;
      if (ec == http::error::body_limit) {
        refusal = too_large();
      } else if (std::string problem = framing_problem(raw); !problem.empty()) {
        refusal = malformed_request(problem);
      }
      if (refusal) {
        co_await refuse(conn, req, version, *refusal, started);
        co_return;
      }
      bool keep_alive = raw.keep_alive();
      // 100-continue (any case) for HTTP/1.1 only (RFC 9110 §10.1.1).
      if (version >= 11 && !parser.is_done() &&
          beast::iequals(raw[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        go_on.set(http::field::date, http_date());
        std::tie(ec, n) =
            co_await http::async_write(conn.stream, go_on, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
      }
      if (!parser.is_done()) {
        std::tie(ec, n) = co_await http::async_read(conn.stream, buffer, parser,
                                                    asio::as_tuple(asio::use_awaitable));
      }
      if (ec == http::error::body_limit) {
        refusal = too_large();
      } else if (ec && malformed(ec)) {
        refusal = malformed_request("Malformed body: " + ec.message());
      }
      if (refusal) {
        co_await refuse(conn, req, version, *refusal, started);
        co_return;
      }
      if (ec) co_return;
      req.body = std::move(raw.body());
      bool head = req.method == "HEAD";
      http_response res = co_await handler.handle(req);
      keep_alive = keep_alive && !stopping.load();
      if (!co_await write(conn, version, res, keep_alive, req.request_id, head)) co_return;
      if (!keep_alive) co_return;
    }
  }

  std::string new_request_id() {
    char id[40];
    std::snprintf(id, sizeof id, "%s%016llx", id_prefix.c_str(),
                  static_cast<unsigned long long>(request_counter.fetch_add(1)));
    return id;
  }

  api_error too_large() const {
    return api_error(errc::request_too_large,
                     "the limit is " + std::to_string(limits.body_bytes) + " bytes");
  }

  static api_error malformed_request(std::string why) {
    return api_error::invalid_headers({{6003, std::move(why), {}}});
  }

  // A request whose start line or headers could not be read.
  http_request unread_request(const std::string& remote) {
    http_request req;
    req.method = "-";
    req.target = "-";
    req.remote = remote;
    req.request_id = new_request_id();
    return req;
  }

  // The client's X-Request-Id when it is short and printable, else a new one.
  std::string request_id_for(const http::request<http::string_body>& raw) {
    auto given = header(raw, "X-Request-Id");
    if (given && !given->empty() && given->size() <= 64 &&
        std::all_of(given->begin(), given->end(), [](char c) { return c > ' ' && c < 0x7f; })) {
      return *given;
    }
    return new_request_id();
  }

  http_request to_request(const http::request<http::string_body>& raw, const std::string& remote) {
    http_request req;
    req.method = std::string(raw.method_string());
    req.target = origin_form(raw.target());
    req.authorization = header(raw, "Authorization");
    req.auth_email = header(raw, "X-Auth-Email");
    req.auth_key = header(raw, "X-Auth-Key");
    req.remote = remote;
    req.request_id = request_id_for(raw);
    return req;
  }

  // Writes the answer; for HEAD, its header section alone (the
  // Content-Length of the body a GET would get).
  asio::awaitable<bool> write(connection& conn, unsigned version, http_response& res,
                              bool keep_alive, const std::string& request_id, bool head) {
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    out.set(http::field::server, "flareq/" FLAREQ_VERSION);
    out.set(http::field::date, http_date());
    out.set(http::field::content_type, "application/json");
    out.set("X-Request-Id", request_id);
    if (!res.allow.empty()) out.set(http::field::allow, res.allow);
    out.keep_alive(keep_alive);
    out.body() = std::move(res.body);
    out.prepare_payload();
    conn.stream.expires_after(limits.request_timeout);
    boost::system::error_code ec;
    std::size_t n = 0;
    if (head) {
      http::response_serializer<http::string_body> serializer(out);
      std::tie(ec, n) = co_await http::async_write_header(conn.stream, serializer,
                                                          asio::as_tuple(asio::use_awaitable));
    } else {
      std::tie(ec, n) =
          co_await http::async_write(conn.stream, out, asio::as_tuple(asio::use_awaitable));
    }
    co_return !ec;
  }

  // An I/O thread. An exception that escapes a handler (none should: this
  // is the last line of defence) is logged, and the thread runs on.
  void run() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        log.write(log_level::error, std::string("I/O thread: ") + e.what());
      }
    }
  }

  // Stops listening for signals once nothing is left to stop, so that the
  // I/O threads can end (a pending wait is work for the io_context).
  void disarm_signals() {
    asio::post(strand, [this] {
      boost::system::error_code ignored;
      signals.cancel(ignored);
    });
  }

  // On the strand.
  void arm_signals() {
    signals.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (!stopping.load()) {
        log.write(log_level::info, "signal " + std::to_string(signal) + ": stopping");
        begin_stop();
        // A second signal stops at once. begin_stop(), or the last
        // connection to end, disarms the set (after this handler: same strand).
        arm_signals();
      } else {
        log.write(log_level::info,
                  "signal " + std::to_string(signal) + " again: closing every connection now");
        close_all();
      }
    });
  }

  void begin_stop() {
    if (stopping.exchange(true)) return;
    asio::post(strand, [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      backoff.cancel();
    });
    std::lock_guard lock(mutex);
    for (const auto& conn : connections) {
      asio::post(conn->stream.get_executor(), [conn] {
        if (!conn->busy) conn->stream.cancel();
      });
    }
    if (connections.empty()) disarm_signals();
  }

  // Ends every connection, requests in flight too; their coroutines see
  // their reads and writes fail and end.
  void close_all() {
    std::lock_guard lock(mutex);
    for (const auto& conn : connections) {
      asio::post(conn->stream.get_executor(), [conn] {
        boost::system::error_code ignored;
        conn->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        conn->stream.cancel();
      });
    }
  }
};

listening_socket::listening_socket(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw listen_error("--host " + host + ": not an IP address");
  std::string where = address.is_v6() ? "[" + host + "]" : host;
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc);
  tcp::endpoint endpoint(address, port);
  auto fail = [&](const boost::system::error_code& e) {
    std::string p = std::to_string(port);
    if (e.value() == EADDRINUSE) {
      throw listen_error("port " + p + " is in use on " + host);
    }
    if (e.value() == EADDRNOTAVAIL) {
      throw listen_error("--host " + host + ": no network interface of this machine has it");
    }
    if (e.value() == EACCES) {
      throw listen_error("port " + p + " on " + host + " needs privileges: choose one above 1023");
    }
    throw listen_error("cannot listen on " + where + ":" + p + ": " + e.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) fail(ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) fail(ec);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail(ec);
  port_ = acceptor.local_endpoint(ec).port();
  v6_ = address.is_v6();
  fd_ = acceptor.release(ec);
  if (ec) fail(ec);
}

listening_socket::~listening_socket() {
  if (fd_ >= 0) ::close(fd_);
}

http_server::http_server(app& handler, const logger& log, http_limits limits)
    : impl_(std::make_unique<impl>(handler, log, limits)) {}

http_server::~http_server() {
  stop();
  wait();
}

namespace {

// Raises the soft limit on open files towards what max_connections needs
// (a descriptor each, beside those open now and a few the server opens
// later), and says so when the hard limit is too low.
void fit_descriptor_limit(std::size_t max_connections, const logger& log) {
  std::error_code ec;
  rlim_t open_now = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++open_now;
  }
  const rlim_t reserve = open_now + 8;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t wanted = static_cast<rlim_t>(max_connections) + reserve;
  if (limit.rlim_cur >= wanted) return;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  if (limit.rlim_cur >= wanted) return;
  std::size_t fit = limit.rlim_cur > reserve ? limit.rlim_cur - reserve : 0;
  log.write(log_level::warn, "only " + std::to_string(limit.rlim_cur) +
                                 " open files are allowed (ulimit -n): about " +
                                 std::to_string(fit) + " connections fit, not --max-connections " +
                                 std::to_string(max_connections) +
                                 "; more wait until others close");
}

}  // namespace

std::uint16_t http_server::start(listening_socket& socket, int threads, bool handle_signals) {
  fit_descriptor_limit(impl_->limits.max_connections, impl_->log);
  impl_->acceptor.assign(socket.v6_ ? tcp::v6() : tcp::v4(), socket.fd_);
  socket.fd_ = -1;
  std::uint16_t bound = socket.port_;
  if (handle_signals) {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    asio::post(impl_->strand, [this] { impl_->arm_signals(); });
  }
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), asio::detached);
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->run(); });
  }
  return bound;
}

void http_server::stop() {
  impl_->begin_stop();
}

void http_server::wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace flareq
