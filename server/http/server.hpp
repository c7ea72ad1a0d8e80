// The HTTP/1.1 transport: a listener and one coroutine per connection
// (keep-alive), on an io_context run by the I/O threads. Each connection
// lives on its own strand. It reads a request with header and body limits
// and a read deadline, hands it to the app, and writes the answer. It knows
// nothing of queues: the app is handed in.
//
// Stopping (stop(), or SIGINT/SIGTERM when enabled): the listener closes,
// idle connections are closed, requests in flight are answered, and the I/O
// threads end when the last connection has. A second signal closes every
// connection at once, requests in flight or not.
//
// Signals: the process blocks SIGINT and SIGTERM in every thread
// (block_stop_signals(), before any thread starts) and the I/O threads read
// them from a signalfd. No signal handler ever runs, so no thread is
// interrupted, and a signal sent before the server listens waits, pending,
// until it does.
//
// HTTP/1.1 as RFC 9110 and 9112 say: only the header section carries
// credentials (trailers are dropped), a Transfer-Encoding other than a lone
// "chunked" or one beside Content-Length is 400 and close, every framing
// error gets a 400 envelope before the close, and an error answered while
// the client may still be sending (413, 431, 400) is followed by a lingering
// close, so that the client reads the answer instead of a reset.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace flareq {

class http_handler;
class logger;

struct http_limits {
  std::size_t header_bytes = 16 * 1024;  // larger headers: 431/6003, then close
  std::size_t body_bytes = 1024 * 1024;  // larger bodies: 413/10205, then close
  // From a request's first byte to its last: a slower client is cut off.
  std::chrono::milliseconds request_timeout{10'000};
  // How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{60'000};
  // Connections beyond this get 503/15000 and are closed at once.
  std::size_t max_connections = 512;
};

// Raises the soft limit on open files towards what max_connections needs,
// and warns when the hard limit is too low (listener.cpp).
void fit_descriptor_limit(std::size_t max_connections, const logger& log);

// Why the listen address cannot be used, in the words of the flags: "port
// 8789 is in use on 127.0.0.1", "--host x: not an IP address".
class listen_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A socket bound and listening on host:port, made before anything else
// starts (a port in use stops start-up before the database is touched), and
// then handed to http_server::start. Owned by one thread.
class listening_socket {
 public:
  // Binds and listens (port 0: any free port). Throws listen_error.
  listening_socket(const std::string& host, std::uint16_t port);
  ~listening_socket();
  listening_socket(const listening_socket&) = delete;
  listening_socket& operator=(const listening_socket&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  friend class http_server;
  int fd_ = -1;  // -1 once handed over
  bool v6_ = false;
  std::uint16_t port_ = 0;
};

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread
// it starts afterwards. main() calls it before anything starts a thread;
// start(..., handle_signals = true) requires it.
void block_stop_signals();

class http_server {
 public:
  // The references must outlive the server.
  http_server(http_handler& handler, const logger& log, http_limits limits);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Takes over the listening socket and starts the I/O threads. Returns the
  // bound port. Raises the open-file limit towards max_connections and
  // warns when it cannot. With handle_signals, the calling thread must have
  // called block_stop_signals() (std::logic_error if not).
  std::uint16_t start(listening_socket& socket, int threads, bool handle_signals);

  // Begins a graceful stop; safe from any thread, and more than once.
  void stop();

  // Blocks until the I/O threads have ended (after stop() or a signal).
  void wait();

  // Client connections open now (any thread).
  std::size_t open_connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace flareq
