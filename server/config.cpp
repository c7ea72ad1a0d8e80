// Flags, environment variables and the config file, on
// Boost.Program_options (see config.hpp). One table (below) drives each
// setting's flag, variable, file key, default, help and check.
#include "server/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "server/auth.hpp"
#include "server/config_options.hpp"
#include "server/router.hpp"
#include "server/rules.hpp"
#include "storage/clock.hpp"

namespace flareq {
namespace asio = boost::asio;
namespace po = boost::program_options;
namespace json = boost::json;
namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

storage::declared_queue parse_queue(const std::string& text) {
  auto eq = text.find('=');
  storage::declared_queue q;
  q.name = text.substr(0, eq);
  q.id = eq == std::string::npos ? q.name : text.substr(eq + 1);
  if (!is_valid_queue_name(q.name)) {
    throw config_error("queue", "--queue " + text +
                                    ": the name must be 1 to 63 letters, digits or dashes, " +
                                    "starting and ending with a letter or digit");
  }
  if (!is_valid_identifier(q.id)) {
    throw config_error(
        "queue", "--queue " + text + ": the id must be 1 to 32 characters of " + "[A-Za-z0-9_-]" +
                     (eq == std::string::npos ? " (a longer name needs NAME=ID)" : ""));
  }
  return q;
}

// Reads a whole number option as int64 and checks it is in [lo, hi].
// name_the_value: the message ends ", not N".
std::int64_t number_in(const po::variables_map& vm, const char* flag, std::int64_t lo,
                       std::int64_t hi, bool name_the_value = false) {
  std::int64_t n = vm[flag].as<std::int64_t>();
  if (n < lo || n > hi) {
    options::fail(flag, "must be " + std::to_string(lo) + " to " + std::to_string(hi) +
                            (name_the_value ? ", not " + std::to_string(n) : ""));
  }
  return n;
}

using options::fail;
using options::kind;

// clang-format off
const options::option option_table[] = {
  {"config", "FLAREQ_CONFIG", nullptr, kind::text, "FILE", nullptr,
   "read settings and queues to provision from a JSON file; flags and variables win over it",
   [](const po::variables_map& vm, config& c) {
     if (vm.count("config") != 0) c.config_file = vm["config"].as<std::string>();
   }},
  {"host", "FLAREQ_HOST", "host", kind::text, "ADDR", "127.0.0.1", "listen address",
   [](const po::variables_map& vm, config& c) {
     c.host = vm["host"].as<std::string>();
     boost::system::error_code bad_host;
     asio::ip::make_address(c.host, bad_host);
     if (bad_host) fail("host", c.host + ": not an IP address (127.0.0.1, 0.0.0.0, ::1, ...)");
   }},
  {"port", "FLAREQ_PORT", "port", kind::number, "N", "8789",
   "listen port; 0 picks a free one, printed at start-up",
   [](const po::variables_map& vm, config& c) {
     c.port = static_cast<std::uint16_t>(number_in(vm, "port", 0, 65535, true));
   }},
  {"db", "FLAREQ_DB", "db", kind::text, "PATH", "./data/flareq.db",
   "SQLite database file, created with its folder; :memory: keeps nothing",
   [](const po::variables_map& vm, config& c) {
     c.db = vm["db"].as<std::string>();
     if (c.db.empty()) fail("db", "must not be empty");
   }},
  {"api-token", "FLAREQ_API_TOKENS", "api_tokens", kind::text_list, "TOKEN", nullptr,
   "accept only these Bearer tokens (repeat the flag; the variable takes a comma-separated "
   "list); without any, every well-formed credential is accepted",
   [](const po::variables_map& vm, config& c) {
     if (vm.count("api-token") == 0) return;
     for (const std::string& t : vm["api-token"].as<std::vector<std::string>>()) {
       // What an Authorization header can carry: no spaces, no control bytes.
       if (!is_valid_token(t)) {
         fail("api-token", "must be a non-empty token without spaces or control characters");
       }
       c.api_tokens.push_back(t);
     }
     if (c.api_tokens.empty()) fail("api-token", "names no token");
   }},
  {"lenient", "FLAREQ_LENIENT", "lenient", kind::boolean, "BOOL", "false",
   "local conveniences Cloudflare lacks: a push to an unknown queue id creates that queue "
   "(named after the id), and pull works without an http_pull consumer. Off (the default), "
   "both fail as on Cloudflare: 404/10104 and 405/10405",
   [](const po::variables_map& vm, config& c) { c.lenient = vm["lenient"].as<bool>(); }},
  {"metrics", "FLAREQ_METRICS", "metrics", kind::boolean, "BOOL", "true",
   "serve Prometheus metrics at GET /metrics (no credentials needed) and count what they show; "
   "--metrics=false turns both off (/metrics is then an unknown route)",
   [](const po::variables_map& vm, config& c) { c.metrics = vm["metrics"].as<bool>(); }},
  {"strict", "FLAREQ_STRICT", "strict", kind::boolean, "BOOL", nullptr,
   "deprecated, does nothing: strict is the default now (see --lenient)",
   [](const po::variables_map& vm, config& c) {
     if (vm.count("strict") == 0) return;
     c.notices.push_back(vm["strict"].as<bool>()
                             ? "--strict is deprecated and does nothing: strict behaviour is the "
                               "default now; it will be removed in a later release"
                             : "--strict=false no longer turns on the local conveniences: use "
                               "--lenient (FLAREQ_LENIENT, \"lenient\" in a config file)");
   }},
  {"queue", "FLAREQ_QUEUES", "queues", kind::text_list, "NAME[=ID]", nullptr,
   "declare a queue: it exists in every account from its first use on, with id ID (default "
   "NAME), so local ids can match production's. Deleted through the API, it stays deleted "
   "until flareq starts again (repeat the flag; the variable takes a comma-separated list)",
   [](const po::variables_map& vm, config& c) {
     if (vm.count("queue") == 0) return;
     std::set<std::string> names, ids;
     for (const std::string& text : vm["queue"].as<std::vector<std::string>>()) {
       storage::declared_queue q = parse_queue(text);
       if (!names.insert(q.name).second) fail("queue", q.name + " is declared twice");
       if (!ids.insert(q.id).second) fail("queue", "id " + q.id + " is declared twice");
       c.queues.push_back(std::move(q));
     }
   }},
  {"max-delay-seconds", "FLAREQ_MAX_DELAY_SECONDS", "max_delay_seconds", kind::number, "N",
   "86400", "largest delay_seconds accepted, 0 to 86400",
   [](const po::variables_map& vm, config& c) {
     c.max_delay_seconds = number_in(vm, "max-delay-seconds", 0, 86400);
   }},
  {"threads", "FLAREQ_THREADS", "threads", kind::number, "N", "2", "I/O threads, 1 to 64",
   [](const po::variables_map& vm, config& c) {
     c.threads = static_cast<int>(number_in(vm, "threads", 1, 64));
   }},
  {"log-level", "FLAREQ_LOG_LEVEL", "log_level", kind::text, "LEVEL", "info",
   "debug, info (one access line per request), warn or error",
   [](const po::variables_map& vm, config& c) {
     auto level = parse_log_level(vm["log-level"].as<std::string>());
     if (!level) fail("log-level", "must be debug, info, warn or error");
     c.level = *level;
   }},
  {"log-format", "FLAREQ_LOG_FORMAT", "log_format", kind::text, "FORMAT", "text",
   "text, or json: one JSON object per line",
   [](const po::variables_map& vm, config& c) {
     auto format = parse_log_format(vm["log-format"].as<std::string>());
     if (!format) fail("log-format", "must be text or json");
     c.format = *format;
   }},
  // Sizes are read as signed numbers: a size_t would take -1 as 18446744073709551615.
  {"max-body-bytes", "FLAREQ_MAX_BODY_BYTES", "max_body_bytes", kind::number, "N", "1048576",
   "largest request body; larger ones get 413/10205",
   [](const po::variables_map& vm, config& c) {
     c.max_body_bytes =
         static_cast<std::size_t>(number_in(vm, "max-body-bytes", std::int64_t{256} * 1024, std::int64_t{64} * 1024 * 1024));
   }},
  // At most 65536: Beast 1.81 cannot hold a field of more than 65,533 bytes.
  {"max-header-bytes", "FLAREQ_MAX_HEADER_BYTES", "max_header_bytes", kind::number, "N", "16384",
   "largest request headers, 1024 to 65536; larger ones get 431/6003 (a chunked body's "
   "trailers: 400 past 64 KiB)",
   [](const po::variables_map& vm, config& c) {
     c.max_header_bytes = static_cast<std::size_t>(number_in(vm, "max-header-bytes", 1024, 65'536));
   }},
  {"request-timeout-ms", "FLAREQ_REQUEST_TIMEOUT_MS", "request_timeout_ms", kind::number, "MS",
   "10000", "time from a request's first byte to its last; slower clients are cut off",
   [](const po::variables_map& vm, config& c) {
     c.request_timeout_ms = number_in(vm, "request-timeout-ms", 100, 600'000);
   }},
  {"idle-timeout-ms", "FLAREQ_IDLE_TIMEOUT_MS", "idle_timeout_ms", kind::number, "MS", "60000",
   "how long an idle kept-alive connection stays open",
   [](const po::variables_map& vm, config& c) {
     c.idle_timeout_ms = number_in(vm, "idle-timeout-ms", 100, 3'600'000);
   }},
  {"max-connections", "FLAREQ_MAX_CONNECTIONS", "max_connections", kind::number, "N", "512",
   "open connections at once; more get 503/15000 and are closed",
   [](const po::variables_map& vm, config& c) {
     c.max_connections = number_in(vm, "max-connections", 1, 100'000);
   }},
  {"max-db-bytes", "FLAREQ_MAX_DB_BYTES", "max_db_bytes", kind::number, "N", "0",
   "cap on the database file and its WAL together; past it writes get 500/15000 (as on a "
   "full disk) and reads go on; 0: no cap",
   [](const po::variables_map& vm, config& c) {
     std::int64_t db_bytes = vm["max-db-bytes"].as<std::int64_t>();
     // Below 256 KiB an empty database leaves too little room to push.
     if (db_bytes != 0 && db_bytes < std::int64_t{256} * 1024) {
       fail("max-db-bytes", "must be 0 or at least 262144");
     }
     c.max_db_bytes = static_cast<std::size_t>(db_bytes);
   }},
  {"clock", "FLAREQ_CLOCK", "clock", kind::text, "MODE", "system",
   "system, or manual[:START_MS]: a clock that stands still (at START_MS, milliseconds since "
   "1970, or the time flareq started) until POST /_flareq/clock moves it; delays, leases, "
   "retention and timestamps follow it",
   [](const po::variables_map& vm, config& c) {
     std::string mode = vm["clock"].as<std::string>();
     if (mode == "system") return;
     if (mode == "manual") {
       c.manual_clock = true;
       return;
     }
     constexpr std::string_view prefix = "manual:";
     std::int64_t start = -1;
     if (mode.starts_with(prefix)) {
       std::string digits = mode.substr(prefix.size());
       bool whole = !digits.empty() && digits.size() <= 15 &&
                    digits.find_first_not_of("0123456789") == std::string::npos;
       if (whole) start = std::stoll(digits);
     }
     if (start < 0 || start > storage::last_clock_ms) {
       fail("clock", "must be system, manual, or manual:START_MS (0 to " +
                         std::to_string(storage::last_clock_ms) + ", up to year 9999), not " +
                         mode);
     }
     c.manual_clock = true;
     c.clock_start_ms = start;
   }},
  {"seed", "FLAREQ_SEED", "seed", kind::number, "N", nullptr,
   "make every generated id (queues, consumers, messages, leases, request ids) and every "
   "fault's dice come from a generator seeded with N: the same requests on the same seed and "
   "manual clock get byte-identical answers",
   [](const po::variables_map& vm, config& c) {
     if (vm.count("seed") == 0) return;
     c.seed = static_cast<std::uint64_t>(
         number_in(vm, "seed", 0, std::numeric_limits<std::int64_t>::max(), true));
   }},
  {"journal-size", "FLAREQ_JOURNAL_SIZE", "journal_size", kind::number, "N", "100000",
   "events the journal keeps (GET /_flareq/events), oldest dropped first; 0 records none",
   [](const po::variables_map& vm, config& c) {
     c.journal_size = number_in(vm, "journal-size", 0, 100'000'000);
   }},
};
// clang-format on

}  // namespace

namespace options {

std::span<const option> table() {
  return option_table;
}

void fail(const char* flag, const std::string& message) {
  throw config_error(flag, "--" + std::string(flag) + " " + message);
}

po::options_description describe() {
  po::options_description desc("Options (each has an environment twin, shown in brackets)", 100,
                               50);
  auto add = desc.add_options();
  add("help,h", "show this help and exit");
  add("version", "show the version and exit");
  for (const option& row : table()) {
    std::string help = std::string(row.help) + " [" + row.env + "]";
    po::value_semantic* value = nullptr;
    switch (row.type) {
      case kind::text: {
        auto* v = po::value<std::string>();
        if (row.default_text != nullptr) v->default_value(row.default_text);
        value = v->value_name(row.value_name);
        break;
      }
      case kind::number: {
        auto* v = po::value<std::int64_t>();
        if (row.default_text != nullptr) v->default_value(std::stoll(row.default_text));
        value = v->value_name(row.value_name);
        break;
      }
      case kind::boolean: {
        auto* v = po::value<bool>()->implicit_value(true);
        if (row.default_text != nullptr) v->default_value(std::string(row.default_text) == "true");
        value = v->value_name(row.value_name);
        break;
      }
      case kind::text_list:
        value = po::value<std::vector<std::string>>()->value_name(row.value_name);
        break;
    }
    add(row.flag, value, help.c_str());
  }
  return desc;
}

config settings_from(const po::variables_map& vm) {
  config c;
  for (const option& row : table()) row.apply(vm, c);
  return c;
}

}  // namespace options

env_lookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

parsed_config parse_config(std::span<const std::string> args, const env_lookup& env) {
  po::options_description desc = options::describe();
  po::variables_map vm;
  try {
    std::vector<std::string> argv(args.begin(), args.end());
    po::positional_options_description none;  // flareq takes no positional arguments
    po::store(po::command_line_parser(argv).options(desc).positional(none).run(), vm);
  } catch (const po::error& e) {
    throw config_error(e.what());
  }
  // Each variable alone, so an error can name it. A value already set by a
  // flag is kept: store() never overwrites one.
  // Reported once --help and --version have had their say.
  std::optional<config_error> empty_tokens;
  std::optional<config_error> env_error;
  for (const options::option& twin : options::table()) {
    auto value = env(twin.env);
    if (!value) continue;
    // A flag wins over its variable, whatever the variable holds.
    if (vm.count(twin.flag) != 0 && !vm[twin.flag].defaulted()) continue;
    po::parsed_options from_env(&desc);
    po::option o;
    o.string_key = twin.flag;
    if (twin.type == options::kind::text_list) {
      o.value = split_list(*value);
    } else {
      o.value.push_back(*value);
    }
    // Set but empty counts as unset (FLAREQ_LENIENT= is not true; compose
    // files write ${X:-}), but for the tokens: FLAREQ_API_TOKENS= or "," is
    // a mistake, and "accept any credential" must never follow from one.
    if (o.value.empty() || o.value.front().empty()) {
      if (std::string_view(twin.flag) == "api-token" && !empty_tokens) {
        empty_tokens = config_error(
            twin.flag, std::string(twin.env) + " is set but names no token: unset it to accept " +
                           "any well-formed credential, or give it the tokens");
      }
      continue;
    }
    from_env.options.push_back(std::move(o));
    try {
      po::store(from_env, vm);
    } catch (const po::error& e) {
      if (!env_error)
        env_error = config_error(std::string(twin.env) + "=" + *value + ": " + e.what());
    }
  }

  parsed_config out;
  if (vm.count("help") != 0) {
    out.what = parsed_config::action::help;
    return out;
  }
  if (vm.count("version") != 0) {
    out.what = parsed_config::action::version;
    return out;
  }
  if (env_error) throw *env_error;
  if (empty_tokens) throw *empty_tokens;
  // The file comes last: flags and variables win over it.
  std::optional<json::value> accounts;
  if (vm.count("config") != 0) {
    accounts = options::load_config_file(vm["config"].as<std::string>(), desc, vm);
  }
  po::notify(vm);
  out.settings = options::settings_from(vm);
  // Provisioned settings are checked against the limits in effect.
  if (accounts) {
    out.settings.accounts = options::read_accounts(
        *accounts, out.settings.config_file, out.settings.max_delay_seconds, out.settings.queues);
  }
  return out;
}

std::string help_text() {
  std::ostringstream out;
  out << "flareq " << FLAREQ_VERSION
      << ": a local emulator of the Cloudflare Queues REST API\n\n"
         "Usage: flareq [options]\n"
         "       flareq healthcheck [options]   exit 0 when the flareq at --host/--port is "
         "ready\n\n"
         "Point the SDK at it with CLOUDFLARE_BASE_URL=http://127.0.0.1:8789/client/v4\n"
         "(wrangler: CLOUDFLARE_API_BASE_URL). Every route also answers without /client/v4.\n\n"
      << options::describe()
      << "\nA flag wins over its environment variable; the variable wins over the default.\n"
         "As on Cloudflare by default: a push to a queue id nobody created is 404/10104, and\n"
         "pull needs an http_pull consumer (405/10405); --lenient relaxes both.\n"
         "A declared queue (--queue, or \"queues\" in a config file) exists in every account\n"
         "from its first use on; deleted through the API, it stays deleted (POST\n"
         "/_flareq/reset included) until flareq starts again.\n"
         "Health: GET /healthz (alive), GET /readyz (database open and migrated).\n"
         "Test harness (README, \"Testing with flareq\"): /_flareq/clock, /_flareq/snapshots,\n"
         "/_flareq/faults, /_flareq/events and /_flareq/events/stream.\n"
         "SIGINT or SIGTERM: stop accepting, finish requests in flight, checkpoint and close\n"
         "the database; a second signal closes every connection at once. A signal sent\n"
         "during start-up (a migration, say) stops flareq as soon as it listens.\n"
         "Exit codes: 0 after a clean stop; 2 for bad options, a port in use, or a database\n"
         "that cannot be opened or written; 1 for anything else (a database that could not\n"
         "be closed cleanly, or whose file went away while flareq ran).\n";
  return out.str();
}

std::string version_text() {
  return std::string("flareq ") + FLAREQ_VERSION + "\n";
}

}  // namespace flareq
