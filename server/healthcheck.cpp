// The health check client (see healthcheck.hpp).
#include "server/healthcheck.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>

namespace flareq {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

int run_healthcheck(const config& settings, std::chrono::milliseconds timeout) {
  std::string host = settings.host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::request<http::empty_body> req{http::verb::get, "/readyz", 11};
  req.set(http::field::host, host);
  req.set(http::field::connection, "close");
  http::response<http::string_body> res;
  boost::system::error_code failure;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    std::fprintf(stderr, "flareq healthcheck: bad host %s\n", host.c_str());
    return 1;
  }
  stream.expires_after(timeout);
  stream.async_connect(
      asio::ip::tcp::endpoint(address, settings.port), [&](boost::system::error_code e) {
        if (e) {
          failure = e;
          return;
        }
        http::async_write(stream, req, [&](boost::system::error_code we, std::size_t) {
          if (we) {
            failure = we;
            return;
          }
          http::async_read(stream, buffer, res,
                           [&](boost::system::error_code re, std::size_t) { failure = re; });
        });
      });
  ioc.run();
  if (failure) {
    std::fprintf(stderr, "flareq healthcheck: %s:%u: %s\n", host.c_str(),
                 static_cast<unsigned>(settings.port), failure.message().c_str());
    return 1;
  }
  if (res.result() != http::status::ok) {
    std::fprintf(stderr, "flareq healthcheck: /readyz answered %u: %s\n", res.result_int(),
                 res.body().c_str());
    return 1;
  }
  return 0;
}

}  // namespace flareq
