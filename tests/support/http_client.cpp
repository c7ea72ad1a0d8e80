// Blocking test client (see http_client.hpp).
#include "tests/support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <chrono>
#include <optional>

namespace flareq::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

header_list bearer(std::string_view token) {
  return {{"Authorization", "Bearer " + std::string(token)}};
}

boost::json::value client_response::json() const {
  return boost::json::parse(body);
}

struct http_client::impl {
  explicit impl(std::uint16_t p) : port(p) {}
  std::uint16_t port;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  bool connected = false;

  void connect() {
    stream.emplace(ioc);
    stream->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    buffer.clear();
    connected = true;
  }
};

http_client::http_client(std::uint16_t port) : impl_(std::make_unique<impl>(port)) {}
http_client::~http_client() = default;

client_response http_client::request(std::string_view method, std::string_view target,
                                     std::string_view body, const header_list& headers) {
  for (int attempt = 0;; ++attempt) {
    if (!impl_->connected) impl_->connect();
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::string(body);
    req.prepare_payload();
    try {
      http::write(*impl_->stream, req);
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      http::read(*impl_->stream, impl_->buffer, parser);
      auto& res = parser.get();
      client_response out;
      out.status = res.result_int();
      out.body = res.body();
      for (const auto& field : res) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(field.value());
      }
      if (!res.keep_alive()) impl_->connected = false;
      return out;
    } catch (const boost::system::system_error&) {
      // The server closed a kept-alive connection: one fresh try.
      impl_->connected = false;
      if (attempt > 0) throw;
    }
  }
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  // The server may answer and close before it has read everything: keep
  // what it said.
  asio::write(socket, asio::buffer(bytes.data(), bytes.size()), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  std::string out;
  char chunk[4096];
  for (;;) {
    std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec) break;
  }
  return out;
}

std::string push_path(std::string_view account, std::string_view queue) {
  return "/client/v4/accounts/" + std::string(account) + "/queues/" + std::string(queue) +
         "/messages";
}

}  // namespace flareq::test
