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
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <vector>

#include <sys/signalfd.h>

#include "server/http/wire.hpp"
#include "server/log.hpp"

namespace flareq {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace wire;

namespace {

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// One connection. Its members are touched only on its strand, but for
// `stream`'s cancellation, which stop() also posts to that strand.
struct connection {
  explicit connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // a request is being handled or answered
};

// Bytes read and thrown away after an error answer, at most, and for how
// long (RFC 9112 §9.6: a lingering close lets the client read the answer).
constexpr std::size_t linger_bytes = std::size_t{64} * 1024 * 1024;
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

}  // namespace

struct http_server::impl {
  impl(http_handler& a, const logger& l, http_limits lim)
      : handler(a),
        log(l),
        limits(lim),
        strand(asio::make_strand(ioc)),
        acceptor(strand),
        signals(strand),
        backoff(strand) {}

  http_handler& handler;
  const logger& log;
  http_limits limits;
  // Before ioc: a session's slot_guard may run while ioc is destroyed.
  mutable std::mutex mutex;
  std::unordered_set<std::shared_ptr<connection>> connections;  // guarded by mutex
  asio::io_context ioc;
  // The acceptor, the signalfd and the back-off timer live on one strand,
  // which stop() posts to.
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  asio::posix::stream_descriptor signals;  // a signalfd, when signals are handled
  signalfd_siginfo signal_read{};          // what the pending read fills
  asio::steady_timer backoff;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  // Request ids: a random prefix per process, then a counter.
  std::string id_prefix = handler.request_id_prefix();
  std::atomic<std::uint64_t> request_counter{1};
  std::atomic<int> lingering_turned_away{0};

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

  // Gives a connection's slot back however its session ends.
  struct slot_guard {
    impl& self;
    std::shared_ptr<connection> conn;
    ~slot_guard() { self.release(conn); }
  };

  void release(const std::shared_ptr<connection>& conn) {
    std::lock_guard lock(mutex);
    connections.erase(conn);
    if (stopping.load() && connections.empty()) disarm_signals();
  }

  asio::awaitable<void> serve(std::shared_ptr<connection> conn) {
    slot_guard slot{*this, conn};
    try {
      co_await serve_requests(*conn);
    } catch (const std::exception& e) {
      log.write(log_level::error, std::string("connection: ") + e.what());
    } catch (...) {
      log.write(log_level::error, "connection: an unknown exception");
    }
    boost::system::error_code ignored;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn->stream.close();
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
    transport_error over{transport_error::kind::too_many_connections,
                         "the limit is " + std::to_string(limits.max_connections) + " connections"};
    http_response res = handler.reject(req, over, std::chrono::steady_clock::now());
    co_await write_answer(conn->stream, 11, res, false, req.request_id, false,
                          limits.request_timeout, http_date(handler.now_seconds()));
    // A short linger so the client reads the 503, for a few at a time only:
    // these connections are outside --max-connections.
    if (lingering_turned_away.fetch_add(1) < max_lingering_turned_away) {
      co_await linger(conn->stream, std::size_t{64} * 1024, turned_away_linger);
    }
    lingering_turned_away.fetch_sub(1);
    conn->stream.close();
  }

  // Answers an error found before the request could be handled, then
  // closes with a linger.
  asio::awaitable<void> refuse(connection& conn, const http_request& req, unsigned version,
                               const transport_error& error,
                               std::chrono::steady_clock::time_point started) {
    http_response res = handler.reject(req, error, started);
    co_await write_answer(conn.stream, version, res, false, req.request_id, req.method == "HEAD",
                          limits.request_timeout, http_date(handler.now_seconds()));
    co_await linger(conn.stream, linger_bytes, linger_time);
  }

  // Feeds the parser the bytes already in buffer, as Beast's reads would
  // first: up to the end of the header section while it is not done, then
  // the body. Returns true when that settled the step without reading: the
  // header (or the whole message) is done, or the bytes are an error (ec;
  // n: the bytes the parser took). False: the parser needs bytes still to
  // come, and nothing was taken from the buffer that a read would not take.
  static bool parse_buffered(http::request_parser<http::string_body>& parser,
                             beast::flat_buffer& buffer, boost::system::error_code& ec,
                             std::size_t& n) {
    bool header = !parser.is_header_done();
    if (header) {
      // Only a whole header section: the parser takes it in one step, or
      // the bytes stay for Beast's read, which counts them all in n.
      std::string_view held(static_cast<const char*>(buffer.data().data()), buffer.size());
      if (held.find("\r\n\r\n") == std::string_view::npos) return false;
    }
    std::size_t used = 0;
    while (buffer.size() > 0) {
      boost::system::error_code pec;
      std::size_t step = parser.put(buffer.data(), pec);
      buffer.consume(step);
      used += step;
      if (pec == http::error::need_more) break;
      if (pec) {
        ec = pec;
        n = used;
        return true;
      }
      if (header ? parser.is_header_done() : parser.is_done()) {
        ec = {};
        n = used;
        return true;
      }
      if (step == 0) break;
    }
    // A body's bytes that came with the header stay taken (the parser has
    // them); Beast's read goes on from there.
    return false;
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
      // Most requests arrive whole: parse what is buffered, and read more
      // (through Beast's composed reads) only when the parser needs it.
      if (!parse_buffered(parser, buffer, ec, n)) {
        std::tie(ec, n) = co_await http::async_read_header(conn.stream, buffer, parser,
                                                           asio::as_tuple(asio::use_awaitable));
      }
      // n: the bytes of the start line and header section, as they came.
      if (!ec && n > limits.header_bytes) ec = http::error::header_limit;
      if (ec && ec != http::error::body_limit) {
        // Named first: GCC 12 mishandles braced temporaries inside co_await.
        std::optional<transport_error> refusal;
        if (ec == http::error::header_limit) {
          refusal = transport_error{
              transport_error::kind::headers_too_large,
              "the headers exceed " + std::to_string(limits.header_bytes) + " bytes"};
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
      http_request req = to_http_request(raw, remote);
      if (req.request_id.empty()) req.request_id = new_request_id();
      std::optional<transport_error> refusal;
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
        go_on.set(http::field::date, http_date(handler.now_seconds()));
        std::tie(ec, n) =
            co_await http::async_write(conn.stream, go_on, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
      }
      if (!parser.is_done() && !parse_buffered(parser, buffer, ec, n)) {
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
      if (res.drop) co_return;  // closed without an answer
      keep_alive = keep_alive && !stopping.load() && !res.stream;
      if (!co_await write_answer(conn.stream, version, res, keep_alive, req.request_id, head,
                                 limits.request_timeout, http_date(handler.now_seconds()))) {
        co_return;
      }
      if (!keep_alive) co_return;
    }
  }

  std::string new_request_id() {
    char id[40];
    std::snprintf(id, sizeof id, "%s%016llx", id_prefix.c_str(),
                  static_cast<unsigned long long>(request_counter.fetch_add(1)));
    return id;
  }

  transport_error too_large() const {
    return {transport_error::kind::body_too_large,
            "the limit is " + std::to_string(limits.body_bytes) + " bytes"};
  }

  static transport_error malformed_request(std::string why) {
    return {transport_error::kind::malformed, std::move(why)};
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
    signals.async_read_some(
        asio::buffer(&signal_read, sizeof signal_read),
        [this](const boost::system::error_code& ec, std::size_t bytes) {
          if (ec || bytes != sizeof signal_read) return;
          std::string signal = std::to_string(signal_read.ssi_signo);
          if (!stopping.load()) {
            log.write(log_level::info, "signal " + signal + ": stopping");
            begin_stop();
            // A second signal stops at once. begin_stop(), or the last
            // connection to end, disarms the read (after this handler: same strand).
            arm_signals();
          } else {
            log.write(log_level::info, "signal " + signal + " again: closing every connection now");
            close_all();
          }
        });
  }

  void begin_stop() {
    if (stopping.exchange(true)) return;
    handler.stopping();  // event streams end, so that their connections can
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

void block_stop_signals() {
  sigset_t stop_set = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);
}

http_server::http_server(http_handler& handler, const logger& log, http_limits limits)
    : impl_(std::make_unique<impl>(handler, log, limits)) {}

http_server::~http_server() {
  stop();
  wait();
}

std::uint16_t http_server::start(listening_socket& socket, int threads, bool handle_signals) {
  fit_descriptor_limit(impl_->limits.max_connections, impl_->log);
  impl_->acceptor.assign(socket.v6_ ? tcp::v6() : tcp::v4(), socket.fd_);
  socket.fd_ = -1;
  std::uint16_t bound = socket.port_;
  if (handle_signals) {
    sigset_t stop_set = stop_signal_set();
    sigset_t blocked;
    pthread_sigmask(SIG_BLOCK, nullptr, &blocked);
    if (sigismember(&blocked, SIGINT) != 1 || sigismember(&blocked, SIGTERM) != 1) {
      throw std::logic_error("http_server: handle_signals without block_stop_signals()");
    }
    int fd = ::signalfd(-1, &stop_set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
    impl_->signals.assign(fd);
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

std::size_t http_server::open_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections.size();
}

void http_server::wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace flareq
