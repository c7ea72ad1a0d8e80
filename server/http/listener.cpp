// The listening socket and the open-file limit (see server.hpp): both set up
// before the I/O threads start, on the starting thread.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cerrno>
#include <filesystem>

#include "server/http/server.hpp"
#include "server/log.hpp"

namespace flareq {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

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

}  // namespace flareq
