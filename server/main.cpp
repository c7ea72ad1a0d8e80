// flareq's entry point: parse the settings, run one instance until SIGINT
// or SIGTERM. Wiring only; everything else lives in the libraries.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/healthcheck.hpp"
#include "server/http/server.hpp"
#include "server/instance.hpp"
#include "server/log.hpp"
#include "storage/clock.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"
#include "storage/queue_store.hpp"

int main(int argc, char** argv) {
  using namespace flareq;
  std::vector<std::string> args(argv + 1, argv + argc);
  // `flareq healthcheck [flags]`: the same settings, then one question to /readyz.
  bool healthcheck = !args.empty() && args.front() == "healthcheck";
  if (healthcheck) args.erase(args.begin());
  parsed_config parsed;
  try {
    parsed = parse_config(args, process_env());
  } catch (const config_error& e) {
    std::fprintf(stderr, "flareq: %s\nTry 'flareq --help'.\n", e.what());
    return 2;
  }
  if (parsed.what == parsed_config::action::help) {
    std::fputs(help_text().c_str(), stdout);
    return 0;
  }
  if (parsed.what == parsed_config::action::version) {
    std::fputs(version_text().c_str(), stdout);
    return 0;
  }
  const config& settings = parsed.settings;
  if (healthcheck) return run_healthcheck(settings, std::chrono::seconds(3));
  // A log reader that goes away (a closed terminal, `| head`) must not kill
  // the server: its writes fail with EPIPE instead, and are counted.
  std::signal(SIGPIPE, SIG_IGN);
  // Before any thread starts, so that every thread blocks SIGINT and SIGTERM
  // and the server reads them (server/http/server.hpp). One sent during
  // start-up waits until the server listens, then stops it.
  block_stop_signals();
  logger log(settings.level, settings.format);
  // --clock manual: a clock that stands still until POST /_flareq/clock.
  storage::system_clock system_time;
  storage::fake_clock manual_time(settings.clock_start_ms ? *settings.clock_start_ms * 1000
                                                          : system_time.now_us());
  storage::clock& clock =
      settings.manual_clock ? static_cast<storage::clock&>(manual_time) : system_time;
  // --seed N: every generated id from a generator seeded with N.
  storage::system_random system_ids;
  storage::seeded_random seeded_ids(settings.seed.value_or(0));
  storage::random_source& random =
      settings.seed ? static_cast<storage::random_source&>(seeded_ids) : system_ids;
  try {
    instance flareq(settings, log, clock, random);
    std::uint16_t port = flareq.start(true);
    // IPv6 literals in brackets (RFC 3986 §3.2.2).
    bool v6 = settings.host.find(':') != std::string::npos;
    std::string address =
        "http://" + (v6 ? "[" + settings.host + "]" : settings.host) + ":" + std::to_string(port);
    for (const std::string& notice : settings.notices) log.write(log_level::warn, notice);
    std::string mode = settings.lenient ? "lenient" : "strict";
    std::string mode_text = settings.lenient
                                ? "lenient: pushes create unknown queues, pull needs no consumer"
                                : "strict, as Cloudflare";
    if (settings.manual_clock)
      mode_text += "; manual clock at " + storage::format_rfc3339_us(clock.now_us());
    if (settings.seed) mode_text += "; seed " + std::to_string(*settings.seed);
    std::string credentials = settings.api_tokens.empty()
                                  ? std::string("any well-formed credential")
                                  : std::to_string(settings.api_tokens.size()) + " API token(s)";
    log.write(log_level::info,
              "flareq " FLAREQ_VERSION " listening on " + address + " (database " + settings.db +
                  ", " + mode_text + ", " + credentials + ")",
              {{"version", boost::json::value(FLAREQ_VERSION), false},
               {"address", boost::json::value(address), false},
               {"database", boost::json::value(settings.db), false},
               {"mode", boost::json::value(mode), false},
               {"credentials", boost::json::value(credentials), false}},
              true);
    log.write(
        log_level::info,
        "dashboard at " + address + "/_flareq/ui/" +
            (settings.metrics ? ", Prometheus metrics at " + address + "/metrics" : std::string()));
    try {
      flareq.wait();
    } catch (const std::exception& e) {
      log.write(log_level::error, std::string("could not close the database cleanly: ") + e.what(),
                {}, true);
      return 1;
    }
    std::uint64_t lost = log.lost_lines();
    log.write(log_level::info,
              lost == 0
                  ? std::string("stopped cleanly")
                  : "stopped cleanly (" + std::to_string(lost) + " log lines could not be written)",
              {}, true);
    return 0;
  } catch (const listen_error& e) {
    std::fprintf(stderr, "flareq: %s\n", e.what());
    return 2;
  } catch (const storage::database_error& e) {
    std::fprintf(stderr, "flareq: database %s: %s\n", settings.db.c_str(), e.what());
    return 2;
  } catch (const storage::store_error& e) {
    std::fprintf(stderr, "flareq: %s: cannot provision its queues: %s\n",
                 settings.config_file.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flareq: %s\n", e.what());
    return 1;
  }
}
