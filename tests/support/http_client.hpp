// A small blocking HTTP/1.1 client for tests, on Beast: one keep-alive
// connection to 127.0.0.1. One client per thread.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flareq::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

// The Authorization header most tests send.
header_list bearer(std::string_view token = "test-token");

struct client_response {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  // Parses the body as JSON (throws when it is not).
  boost::json::value json() const;
};

class http_client {
 public:
  explicit http_client(std::uint16_t port);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends a request and reads the answer; reconnects if the server closed.
  client_response request(std::string_view method, std::string_view target,
                          std::string_view body = {}, const header_list& headers = bearer());
  client_response post(std::string_view target, std::string_view body,
                       const header_list& headers = bearer()) {
    return request("POST", target, body, headers);
  }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Sends raw bytes on a new connection, half-closes it, and returns every
// byte the server answers until it closes (also when the server closed
// before reading all of them).
std::string raw_exchange(std::uint16_t port, std::string_view bytes);

// The push route of a queue, with the /client/v4 prefix.
std::string push_path(std::string_view account, std::string_view queue);

}  // namespace flareq::test
