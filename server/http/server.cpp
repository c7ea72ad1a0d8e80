// Beast/Asio transport (see server.hpp). Modelled on Beast 1.81's awaitable
// and advanced servers; every completion token is named, since 1.81 has no
// default token.
#include "server/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <mutex>
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

// Returns the size of a request's start line and headers as sent.
std::size_t header_bytes(const http::request<http::string_body>& req) {
  std::size_t n = req.method_string().size() + req.target().size() + 12;
  for (const auto& field : req) n += field.name_string().size() + field.value().size() + 4;
  return n;
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
        signals(strand) {}

  app& handler;
  const logger& log;
  http_limits limits;
  asio::io_context ioc;
  // The acceptor and the signal set live on one strand, which stop() posts to.
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  // Request ids: a random prefix per process, then a counter.
  std::string id_prefix = random_prefix();
  std::atomic<std::uint64_t> request_counter{1};
  std::mutex mutex;
  std::unordered_set<std::shared_ptr<connection>> connections;  // guarded by mutex

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc),
                                                         asio::as_tuple(asio::use_awaitable));
      if (stopping.load()) co_return;
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
    co_await write(*conn, 11, res, false, req.request_id);
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    conn->stream.close();
  }

  asio::awaitable<void> serve_requests(connection& conn) {
    beast::flat_buffer buffer;
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
      if (buffer.size() == 0) {
        // Idle: wait for the first byte of the next request.
        conn.stream.expires_after(limits.idle_timeout);
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
      if (!ec && parser.get()[http::field::expect] == "100-continue") {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        std::tie(ec, n) =
            co_await http::async_write(conn.stream, go_on, asio::as_tuple(asio::use_awaitable));
      }
      if (!ec && !parser.is_done()) {
        std::tie(ec, n) = co_await http::async_read(conn.stream, buffer, parser,
                                                    asio::as_tuple(asio::use_awaitable));
      }
      if (!ec && header_bytes(parser.get()) > limits.header_bytes) ec = http::error::header_limit;
      if (ec == http::error::header_limit) {
        http_request req;
        req.method = "-";
        req.target = "-";
        req.remote = remote;
        req.request_id = new_request_id();
        http_response res = handler.reject(
            req,
            api_error(errc::headers_too_large,
                      "the headers exceed " + std::to_string(limits.header_bytes) + " bytes"),
            started);
        co_await write(conn, 11, res, false, req.request_id);
        co_return;
      }
      if (ec == http::error::body_limit) {
        http_request req = to_request(parser.get(), remote);
        http_response res = handler.reject(
            req,
            api_error(errc::request_too_large,
                      "the limit is " + std::to_string(limits.body_bytes) + " bytes"),
            started);
        co_await write(conn, parser.get().version(), res, false, req.request_id);
        co_return;
      }
      if (ec) co_return;  // closed, timed out, cancelled by stop(), or not HTTP

      http::request<http::string_body>& raw = parser.get();
      bool keep_alive = raw.keep_alive();
      unsigned version = raw.version();
      http_request req = to_request(raw, remote);
      req.body = std::move(raw.body());
      http_response res = co_await handler.handle(req);
      keep_alive = keep_alive && !stopping.load();
      if (!co_await write(conn, version, res, keep_alive, req.request_id)) co_return;
      if (!keep_alive) co_return;
    }
  }

  std::string new_request_id() {
    char id[40];
    std::snprintf(id, sizeof id, "%s%016llx", id_prefix.c_str(),
                  static_cast<unsigned long long>(request_counter.fetch_add(1)));
    return id;
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
    req.target = std::string(raw.target());
    req.authorization = header(raw, "Authorization");
    req.auth_email = header(raw, "X-Auth-Email");
    req.auth_key = header(raw, "X-Auth-Key");
    req.remote = remote;
    req.request_id = request_id_for(raw);
    return req;
  }

  asio::awaitable<bool> write(connection& conn, unsigned version, http_response& res,
                              bool keep_alive, const std::string& request_id) {
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    out.set(http::field::server, "flareq/" FLAREQ_VERSION);
    out.set(http::field::content_type, "application/json");
    out.set("X-Request-Id", request_id);
    out.keep_alive(keep_alive);
    out.body() = std::move(res.body);
    out.prepare_payload();
    conn.stream.expires_after(limits.request_timeout);
    auto [ec, n] =
        co_await http::async_write(conn.stream, out, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  void begin_stop() {
    if (stopping.exchange(true)) return;
    asio::post(acceptor.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      signals.cancel(ignored);
    });
    std::lock_guard lock(mutex);
    for (const auto& conn : connections) {
      asio::post(conn->stream.get_executor(), [conn] {
        if (!conn->busy) conn->stream.cancel();
      });
    }
  }
};

http_server::http_server(app& handler, const logger& log, http_limits limits)
    : impl_(std::make_unique<impl>(handler, log, limits)) {}

http_server::~http_server() {
  stop();
  wait();
}

std::uint16_t http_server::start(const std::string& host, std::uint16_t port, int threads,
                                 bool handle_signals) {
  tcp::endpoint endpoint(asio::ip::make_address(host), port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  std::uint16_t bound = impl_->acceptor.local_endpoint().port();
  if (handle_signals) {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    impl_->signals.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      impl_->log.write(log_level::info, "signal " + std::to_string(signal) + ": stopping");
      impl_->begin_stop();
    });
  }
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), asio::detached);
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
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
