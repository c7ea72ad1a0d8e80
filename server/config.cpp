// Flags and environment variables, on Boost.Program_options (see config.hpp).
#include "server/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "server/api_error.hpp"
#include "server/auth.hpp"
#include "server/router.hpp"
#include "server/rules.hpp"

namespace flareq {
namespace asio = boost::asio;
namespace po = boost::program_options;
namespace json = boost::json;
namespace {

// One row per setting: flag, its environment twin, and whether the variable
// holds a comma-separated list.
struct env_twin {
  const char* key;
  const char* env;
  bool list;
};

constexpr env_twin env_twins[] = {
    {"host", "FLAREQ_HOST", false},
    {"port", "FLAREQ_PORT", false},
    {"db", "FLAREQ_DB", false},
    {"api-token", "FLAREQ_API_TOKENS", true},
    {"lenient", "FLAREQ_LENIENT", false},
    {"strict", "FLAREQ_STRICT", false},
    {"queue", "FLAREQ_QUEUES", true},
    {"max-delay-seconds", "FLAREQ_MAX_DELAY_SECONDS", false},
    {"threads", "FLAREQ_THREADS", false},
    {"log-level", "FLAREQ_LOG_LEVEL", false},
    {"max-body-bytes", "FLAREQ_MAX_BODY_BYTES", false},
    {"log-format", "FLAREQ_LOG_FORMAT", false},
    {"config", "FLAREQ_CONFIG", false},
    {"max-header-bytes", "FLAREQ_MAX_HEADER_BYTES", false},
    {"request-timeout-ms", "FLAREQ_REQUEST_TIMEOUT_MS", false},
    {"idle-timeout-ms", "FLAREQ_IDLE_TIMEOUT_MS", false},
    {"max-connections", "FLAREQ_MAX_CONNECTIONS", false},
    {"max-db-bytes", "FLAREQ_MAX_DB_BYTES", false},
};

po::options_description describe() {
  const config d;
  po::options_description desc("Options (each has an environment twin, shown in brackets)", 100,
                               50);
  // clang-format off
  desc.add_options()
    ("help,h", "show this help and exit")
    ("version", "show the version and exit")
    ("config", po::value<std::string>()->value_name("FILE"),
     "read settings and queues to provision from a JSON file; flags and variables win over "
     "it [FLAREQ_CONFIG]")
    ("host", po::value<std::string>()->default_value(d.host)->value_name("ADDR"),
     "listen address [FLAREQ_HOST]")
    ("port", po::value<int>()->default_value(d.port)->value_name("N"),
     "listen port; 0 picks a free one, printed at start-up [FLAREQ_PORT]")
    ("db", po::value<std::string>()->default_value(d.db)->value_name("PATH"),
     "SQLite database file, created with its folder; :memory: keeps nothing [FLAREQ_DB]")
    ("api-token", po::value<std::vector<std::string>>()->value_name("TOKEN"),
     "accept only these Bearer tokens (repeat the flag; the variable takes a comma-separated "
     "list); without any, every well-formed credential is accepted [FLAREQ_API_TOKENS]")
    ("lenient", po::value<bool>()->default_value(false)->implicit_value(true)->value_name("BOOL"),
     "local conveniences Cloudflare lacks: a push to an unknown queue id creates that queue "
     "(named after the id), and pull works without an http_pull consumer. Off (the default), "
     "both fail as on Cloudflare: 404/10104 and 405/10405 [FLAREQ_LENIENT]")
    ("strict", po::value<bool>()->implicit_value(true)->value_name("BOOL"),
     "deprecated, does nothing: strict is the default now (see --lenient) [FLAREQ_STRICT]")
    ("queue", po::value<std::vector<std::string>>()->value_name("NAME[=ID]"),
     "declare a queue: it exists in every account from its first use on, with id ID (default "
     "NAME), so local ids can match production's. Deleted through the API, it stays deleted "
     "until flareq starts again (repeat the flag; the variable takes a comma-separated list) "
     "[FLAREQ_QUEUES]")
    ("max-delay-seconds", po::value<std::int64_t>()->default_value(d.max_delay_seconds)
       ->value_name("N"),
     "largest delay_seconds accepted, 0 to 86400 [FLAREQ_MAX_DELAY_SECONDS]")
    ("threads", po::value<int>()->default_value(d.threads)->value_name("N"),
     "I/O threads, 1 to 64 [FLAREQ_THREADS]")
    ("log-level", po::value<std::string>()->default_value("info")->value_name("LEVEL"),
     "debug, info (one access line per request), warn or error [FLAREQ_LOG_LEVEL]")
    ("log-format", po::value<std::string>()->default_value("text")->value_name("FORMAT"),
     "text, or json: one JSON object per line [FLAREQ_LOG_FORMAT]")
    ("max-body-bytes", po::value<std::int64_t>()
       ->default_value(static_cast<std::int64_t>(d.max_body_bytes))->value_name("N"),
     "largest request body; larger ones get 413/10205 [FLAREQ_MAX_BODY_BYTES]")
    ("max-header-bytes", po::value<std::int64_t>()
       ->default_value(static_cast<std::int64_t>(d.max_header_bytes))->value_name("N"),
     "largest request headers, 1024 to 65536; larger ones get 431/6003 (a chunked body's "
     "trailers: 400 past 64 KiB) [FLAREQ_MAX_HEADER_BYTES]")
    ("request-timeout-ms", po::value<std::int64_t>()->default_value(d.request_timeout_ms)
       ->value_name("MS"),
     "time from a request's first byte to its last; slower clients are cut off "
     "[FLAREQ_REQUEST_TIMEOUT_MS]")
    ("idle-timeout-ms", po::value<std::int64_t>()->default_value(d.idle_timeout_ms)
       ->value_name("MS"),
     "how long an idle kept-alive connection stays open [FLAREQ_IDLE_TIMEOUT_MS]")
    ("max-connections", po::value<std::int64_t>()->default_value(d.max_connections)
       ->value_name("N"),
     "open connections at once; more get 503/15000 and are closed [FLAREQ_MAX_CONNECTIONS]")
    ("max-db-bytes", po::value<std::int64_t>()->default_value(0)->value_name("N"),
     "cap on the database file and its WAL together; past it writes get 500/15000 (as on a "
     "full disk) and reads go on; 0: no cap [FLAREQ_MAX_DB_BYTES]");
  // clang-format on
  return desc;
}

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

}  // namespace

env_lookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

// Builds the settings from the stored options, checking each value; a bad
// one throws config_error naming its option.
config settings_from(const po::variables_map& vm) {
  config c;
  auto fail = [](const char* key, const std::string& message) -> void {
    throw config_error(key, "--" + std::string(key) + " " + message);
  };
  c.host = vm["host"].as<std::string>();
  boost::system::error_code bad_host;
  asio::ip::make_address(c.host, bad_host);
  if (bad_host) fail("host", c.host + ": not an IP address (127.0.0.1, 0.0.0.0, ::1, ...)");
  int port = vm["port"].as<int>();
  if (port < 0 || port > 65535) fail("port", "must be 0 to 65535, not " + std::to_string(port));
  c.port = static_cast<std::uint16_t>(port);
  c.db = vm["db"].as<std::string>();
  if (c.db.empty()) fail("db", "must not be empty");
  if (vm.count("api-token") != 0) {
    for (const std::string& t : vm["api-token"].as<std::vector<std::string>>()) {
      // What an Authorization header can carry: no spaces, no control bytes.
      if (!is_valid_token(t)) {
        fail("api-token", "must be a non-empty token without spaces or control characters");
      }
      c.api_tokens.push_back(t);
    }
    if (c.api_tokens.empty()) fail("api-token", "names no token");
  }
  c.lenient = vm["lenient"].as<bool>();
  if (vm.count("strict") != 0) {
    c.notices.push_back(vm["strict"].as<bool>()
                            ? "--strict is deprecated and does nothing: strict behaviour is the "
                              "default now; it will be removed in a later release"
                            : "--strict=false no longer turns on the local conveniences: use "
                              "--lenient (FLAREQ_LENIENT, \"lenient\" in a config file)");
  }
  if (vm.count("queue") != 0) {
    std::set<std::string> names, ids;
    for (const std::string& text : vm["queue"].as<std::vector<std::string>>()) {
      storage::declared_queue q = parse_queue(text);
      if (!names.insert(q.name).second) fail("queue", q.name + " is declared twice");
      if (!ids.insert(q.id).second) fail("queue", "id " + q.id + " is declared twice");
      c.queues.push_back(std::move(q));
    }
  }
  c.max_delay_seconds = vm["max-delay-seconds"].as<std::int64_t>();
  if (c.max_delay_seconds < 0 || c.max_delay_seconds > 86400) {
    fail("max-delay-seconds", "must be 0 to 86400");
  }
  c.threads = vm["threads"].as<int>();
  if (c.threads < 1 || c.threads > 64) fail("threads", "must be 1 to 64");
  auto level = parse_log_level(vm["log-level"].as<std::string>());
  if (!level) fail("log-level", "must be debug, info, warn or error");
  c.level = *level;
  auto format = parse_log_format(vm["log-format"].as<std::string>());
  if (!format) fail("log-format", "must be text or json");
  c.format = *format;
  // Read as signed numbers: a size_t would take -1 as 18446744073709551615.
  std::int64_t body = vm["max-body-bytes"].as<std::int64_t>();
  if (body < 256 * 1024 || body > 64 * 1024 * 1024) {
    fail("max-body-bytes", "must be 262144 to 67108864");
  }
  c.max_body_bytes = static_cast<std::size_t>(body);
  std::int64_t header = vm["max-header-bytes"].as<std::int64_t>();
  // At most 65536: Beast 1.81 cannot hold a field of more than 65,533 bytes.
  if (header < 1024 || header > 65'536) fail("max-header-bytes", "must be 1024 to 65536");
  c.max_header_bytes = static_cast<std::size_t>(header);
  c.request_timeout_ms = vm["request-timeout-ms"].as<std::int64_t>();
  if (c.request_timeout_ms < 100 || c.request_timeout_ms > 600'000) {
    fail("request-timeout-ms", "must be 100 to 600000");
  }
  c.idle_timeout_ms = vm["idle-timeout-ms"].as<std::int64_t>();
  if (c.idle_timeout_ms < 100 || c.idle_timeout_ms > 3'600'000) {
    fail("idle-timeout-ms", "must be 100 to 3600000");
  }
  c.max_connections = vm["max-connections"].as<std::int64_t>();
  if (c.max_connections < 1 || c.max_connections > 100'000) {
    fail("max-connections", "must be 1 to 100000");
  }
  std::int64_t db_bytes = vm["max-db-bytes"].as<std::int64_t>();
  // Below 256 KiB an empty database leaves too little room to push.
  if (db_bytes != 0 && db_bytes < 256 * 1024) fail("max-db-bytes", "must be 0 or at least 262144");
  c.max_db_bytes = static_cast<std::size_t>(db_bytes);
  if (vm.count("config") != 0) c.config_file = vm["config"].as<std::string>();
  return c;
}

// The keys of the configuration file: each names an option (flag name with
// "_" for "-"), but for "accounts", which lists queues to provision.
struct file_key {
  const char* key;
  const char* option;
  enum kind_t { text, number, boolean, text_list } kind;
};

constexpr file_key file_keys[] = {
    {"host", "host", file_key::text},
    {"port", "port", file_key::number},
    {"db", "db", file_key::text},
    {"api_tokens", "api-token", file_key::text_list},
    {"lenient", "lenient", file_key::boolean},
    {"strict", "strict", file_key::boolean},
    {"queues", "queue", file_key::text_list},
    {"max_delay_seconds", "max-delay-seconds", file_key::number},
    {"threads", "threads", file_key::number},
    {"log_level", "log-level", file_key::text},
    {"log_format", "log-format", file_key::text},
    {"max_body_bytes", "max-body-bytes", file_key::number},
    {"max_header_bytes", "max-header-bytes", file_key::number},
    {"request_timeout_ms", "request-timeout-ms", file_key::number},
    {"idle_timeout_ms", "idle-timeout-ms", file_key::number},
    {"max_connections", "max-connections", file_key::number},
    {"max_db_bytes", "max-db-bytes", file_key::number},
};

[[noreturn]] void file_error(const std::string& file, const std::string& key,
                             const std::string& message) {
  throw config_error(key, file + ": \"" + key + "\": " + message);
}

std::string scalar_text(const json::value& v, file_key::kind_t kind, const std::string& file,
                        const std::string& key) {
  if (kind == file_key::text && v.is_string()) return std::string(v.get_string());
  if (kind == file_key::number && v.is_int64()) return std::to_string(v.get_int64());
  if (kind == file_key::boolean && v.is_bool()) return v.get_bool() ? "true" : "false";
  static constexpr const char* wanted[] = {"a string", "a whole number", "true or false",
                                           "a list of strings"};
  file_error(file, key, std::string("must be ") + wanted[kind]);
}

// Reads the file's accounts, checked against the settings in effect: the
// max delay, and the queues declared in every account (--queue), which a
// provisioned queue may not contradict.
std::vector<storage::account_spec> read_accounts(
    const json::value& v, const std::string& file, std::int64_t max_delay,
    const std::vector<storage::declared_queue>& declared) {
  std::vector<storage::account_spec> out;
  std::map<std::string, std::string> account_ids;  // id -> where
  const json::array* accounts = v.if_array();
  if (accounts == nullptr) file_error(file, "accounts", "must be a list of accounts");
  for (std::size_t a = 0; a < accounts->size(); ++a) {
    std::string where = "accounts[" + std::to_string(a) + "]";
    const json::object* account = (*accounts)[a].if_object();
    if (account == nullptr) file_error(file, where, "must be an object");
    storage::account_spec spec;
    const json::value* id = account->if_contains("id");
    if (id == nullptr || !id->is_string() || !is_valid_identifier(id->get_string())) {
      file_error(file, where + ".id", "must be 1 to 32 characters of [A-Za-z0-9_-]");
    }
    spec.id = id->get_string();
    if (auto [first, fresh] = account_ids.emplace(spec.id, where); !fresh) {
      file_error(
          file, where + ".id",
          "is " + spec.id + ", listed at " + first->second + " already: list an account once");
    }
    for (const auto& [k, unused] : *account) {
      if (k != "id" && k != "queues") file_error(file, where + "." + std::string(k), "unknown key");
    }
    const json::value* queues = account->if_contains("queues");
    if (queues != nullptr && !queues->is_array()) {
      file_error(file, where + ".queues", "must be a list of queues");
    }
    std::set<std::string> names;
    std::map<std::string, std::string> ids;  // id -> where it was first given
    for (std::size_t i = 0; queues != nullptr && i < queues->get_array().size(); ++i) {
      std::string at = where + ".queues[" + std::to_string(i) + "]";
      const json::object* q = queues->get_array()[i].if_object();
      if (q == nullptr) file_error(file, at, "must be an object");
      for (const auto& [k, unused] : *q) {
        if (k != "name" && k != "id" && k != "settings" && k != "consumer") {
          file_error(file, at + "." + std::string(k), "unknown key");
        }
      }
      storage::queue_spec queue;
      const json::value* name = q->if_contains("name");
      if (name == nullptr || !name->is_string() || !is_valid_queue_name(name->get_string())) {
        file_error(file, at + ".name",
                   "must be 1 to 63 letters, digits or dashes, starting and ending with a letter "
                   "or digit");
      }
      queue.name = name->get_string();
      if (!names.insert(queue.name).second) file_error(file, at + ".name", "is listed twice");
      if (const json::value* qid = q->if_contains("id")) {
        if (!qid->is_string() || !is_valid_identifier(qid->get_string())) {
          file_error(file, at + ".id", "must be 1 to 32 characters of [A-Za-z0-9_-]");
        }
        queue.id = qid->get_string();
        auto [first, fresh] = ids.emplace(queue.id, at);
        if (!fresh) {
          file_error(file, at + ".id", "is " + queue.id + ", the id of " + first->second + " too");
        }
      }
      for (const storage::declared_queue& d : declared) {
        // A file queue without an id takes its declared id.
        if (queue.id.empty() && d.name == queue.name) queue.id = d.id;
        bool same_id = !queue.id.empty() && d.id == queue.id;
        if (same_id != (d.name == queue.name) && (same_id || !queue.id.empty())) {
          file_error(file, at,
                     "contradicts --queue " + d.name + "=" + d.id +
                         ": a declared queue's name and id must match the file's");
        }
      }
      try {
        queue.settings = read_queue_settings(*q, {}, max_delay);
      } catch (const api_error& e) {
        file_error(file, at + ".settings", e.what());
      }
      if (const json::value* consumer = q->if_contains("consumer")) {
        try {
          queue.consumer = read_consumer_input(*consumer, max_delay);
        } catch (const api_error& e) {
          file_error(file, at + ".consumer", e.what());
        }
        if (queue.consumer->dead_letter_queue == queue.name) {
          file_error(file, at + ".consumer.dead_letter_queue",
                     "is the queue itself: its failed messages would come back to it");
        }
      }
      spec.queues.push_back(std::move(queue));
    }
    out.push_back(std::move(spec));
  }
  return out;
}

// Reads the configuration file: its settings are stored into vm below the
// flags and variables already there; its "accounts" are returned as they
// are, to be read once the settings in effect are known. Every problem
// throws config_error naming the file and the key.
std::optional<json::value> load_config_file(const std::string& file,
                                            const po::options_description& desc,
                                            po::variables_map& vm) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw config_error("config", file + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value root = json::parse(text.str(), ec);
  if (ec) throw config_error("config", file + ": not valid JSON (" + ec.message() + ")");
  const json::object* obj = root.if_object();
  if (obj == nullptr) throw config_error("config", file + ": must hold a JSON object");

  po::parsed_options from_file(&desc);
  for (const auto& [key_view, value] : *obj) {
    std::string key(key_view);
    if (key == "accounts") continue;
    const file_key* known = nullptr;
    for (const file_key& k : file_keys) {
      if (key == k.key) known = &k;
    }
    if (known == nullptr) file_error(file, key, "unknown key");
    po::option o;
    o.string_key = known->option;
    if (known->kind == file_key::text_list) {
      const json::array* list = value.if_array();
      if (list == nullptr) file_error(file, key, "must be a list of strings");
      for (const json::value& item : *list) {
        if (!item.is_string()) file_error(file, key, "must be a list of strings");
        o.value.emplace_back(item.get_string());
      }
    } else {
      o.value.push_back(scalar_text(value, known->kind, file, key));
    }
    from_file.options.push_back(std::move(o));
  }
  // The file's own values must be valid, whatever overrides them.
  po::variables_map alone;
  try {
    po::store(from_file, alone);
    po::notify(alone);
    settings_from(alone);
  } catch (const po::error& e) {
    throw config_error("config", file + ": " + e.what());
  } catch (const config_error& e) {
    std::string key = e.key();
    for (const file_key& k : file_keys) {
      if (key == k.option) key = k.key;
    }
    file_error(file, key, e.what());
  }
  po::store(from_file, vm);
  if (const json::value* accounts = obj->if_contains("accounts")) return *accounts;
  return std::nullopt;
}

}  // namespace

parsed_config parse_config(std::span<const std::string> args, const env_lookup& env) {
  po::options_description desc = describe();
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
  for (const env_twin& twin : env_twins) {
    auto value = env(twin.env);
    if (!value) continue;
    // A flag wins over its variable, whatever the variable holds.
    if (vm.count(twin.key) != 0 && !vm[twin.key].defaulted()) continue;
    po::parsed_options from_env(&desc);
    po::option o;
    o.string_key = twin.key;
    if (twin.list) {
      o.value = split_list(*value);
    } else {
      o.value.push_back(*value);
    }
    // Set but empty counts as unset (FLAREQ_LENIENT= is not true; compose
    // files write ${X:-}), but for the tokens: FLAREQ_API_TOKENS= or "," is
    // a mistake, and "accept any credential" must never follow from one.
    if (o.value.empty() || o.value.front().empty()) {
      if (std::string_view(twin.key) == "api-token" && !empty_tokens) {
        empty_tokens = config_error(
            twin.key, std::string(twin.env) + " is set but names no token: unset it to accept " +
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
    accounts = load_config_file(vm["config"].as<std::string>(), desc, vm);
  }
  po::notify(vm);
  out.settings = settings_from(vm);
  // Provisioned settings are checked against the limits in effect.
  if (accounts) {
    out.settings.accounts = read_accounts(*accounts, out.settings.config_file,
                                          out.settings.max_delay_seconds, out.settings.queues);
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
      << describe()
      << "\nA flag wins over its environment variable; the variable wins over the default.\n"
         "As on Cloudflare by default: a push to a queue id nobody created is 404/10104, and\n"
         "pull needs an http_pull consumer (405/10405); --lenient relaxes both.\n"
         "A declared queue (--queue, or \"queues\" in a config file) exists in every account\n"
         "from its first use on; deleted through the API, it stays deleted (POST\n"
         "/_flareq/reset included) until flareq starts again.\n"
         "Health: GET /healthz (alive), GET /readyz (database open and migrated).\n"
         "SIGINT or SIGTERM: stop accepting, finish requests in flight, checkpoint and close\n"
         "the database; a second signal closes every connection at once.\n"
         "Exit codes: 0 after a clean stop; 2 for bad options, a port in use, or a database\n"
         "that cannot be opened or written; 1 for anything else (a database that could not\n"
         "be closed cleanly, or whose file went away while flareq ran).\n";
  return out.str();
}

std::string version_text() {
  return std::string("flareq ") + FLAREQ_VERSION + "\n";
}

}  // namespace flareq
