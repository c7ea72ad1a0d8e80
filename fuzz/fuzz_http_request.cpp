// libFuzzer target: raw HTTP bytes -> flareq's answer, without a socket.
// The bytes are parsed by Beast with the server's limits; a whole request
// goes through the real app (credentials, routes, handlers, storage on an
// in-memory database, a manual clock). Anything but a clean answer (a crash,
// a sanitizer report, a status outside the documented ones) is a finding.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/app.hpp"
#include "server/config.hpp"
#include "server/event_hub.hpp"
#include "server/faults.hpp"
#include "server/http/wire.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"
#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/migrate.hpp"
#include "storage/queue_store.hpp"
#include "storage/writer.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace flareq;

struct world {
  world()
      : db(make_db()),
        clock(1'795'981'552'123'456),
        random(1),
        store(db, clock, random, {}),
        faults(7),
        writer(db, store),
        metrics(app::metric_labels()),
        application(writer, settings, log, {clock, random, hub, faults, &metrics}) {}
  static storage::database make_db() {
    storage::database d = storage::database::open(":memory:");
    storage::migrate(d);
    return d;
  }
  config settings;
  logger log{log_level::error};
  storage::database db;
  storage::fake_clock clock;
  storage::seeded_random random;
  storage::queue_store store;
  event_hub hub;
  fault_rules faults;
  storage::writer writer;
  metrics_registry metrics;
  app application;
  asio::io_context ioc;
};

asio::awaitable<void> answer(app& application, const http_request& req, http_response& out) {
  out = co_await application.handle(req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static world* w = new world();  // lives for the whole run
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto& raw = parser.get();
  // The server's own conversion (header section only), then the body.
  http_request req = wire::to_http_request(raw, "fuzz");
  req.request_id = "fuzz";
  req.body = raw.body();
  http_response res;
  asio::co_spawn(w->ioc, answer(w->application, req, res), asio::detached);
  w->ioc.run();
  w->ioc.restart();
  // One request per input: a fault rule an input adds must not reach the
  // next one (a latency rule would stall the run).
  w->faults.clear();
  switch (res.status) {
    case 200:
    case 400:
    case 403:
    case 404:
    case 405:
    case 409:
    case 413:
    case 422:
      break;
    default:
      std::abort();  // 500 or anything undocumented: a finding
  }
  if (res.stream) return 0;  // the event stream: its pieces come later
  if (res.body.empty()) std::abort();
  // Every answer is an envelope, but for /metrics' text and the dashboard's files.
  if (res.content_type == "application/json" && res.body.front() != '{') std::abort();
  return 0;
}
