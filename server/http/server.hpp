// The HTTP/1.1 transport: a listener and one coroutine per connection
// (keep-alive), on an io_context run by the I/O threads. Each connection
// lives on its own strand. It reads a request with header and body limits
// and a read deadline, hands it to the app, and writes the answer. It knows
// nothing of queues: the app is handed in.
//
// Stopping (stop(), or SIGINT/SIGTERM when enabled): the listener closes,
// idle connections are closed, requests in flight are answered, and the I/O
// threads end when the last connection has.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace flareq {

class app;
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

class http_server {
 public:
  // The references must outlive the server.
  http_server(app& handler, const logger& log, http_limits limits);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds and listens on host:port (0: any free port), then starts the I/O
  // threads. Returns the bound port. Throws std::system_error when the
  // address cannot be used.
  std::uint16_t start(const std::string& host, std::uint16_t port, int threads,
                      bool handle_signals);

  // Begins a graceful stop; safe from any thread, and more than once.
  void stop();

  // Blocks until the I/O threads have ended (after stop() or a signal).
  void wait();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace flareq
