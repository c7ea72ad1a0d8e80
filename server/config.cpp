// Flags and environment variables, on Boost.Program_options (see config.hpp).
#include "server/config.hpp"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <set>
#include <sstream>

#include "server/router.hpp"

namespace flareq {
namespace po = boost::program_options;
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
    {"strict", "FLAREQ_STRICT", false},
    {"queue", "FLAREQ_QUEUES", true},
    {"max-delay-seconds", "FLAREQ_MAX_DELAY_SECONDS", false},
    {"threads", "FLAREQ_THREADS", false},
    {"log-level", "FLAREQ_LOG_LEVEL", false},
    {"max-body-bytes", "FLAREQ_MAX_BODY_BYTES", false},
};

po::options_description describe() {
  const config d;
  po::options_description desc("Options (each has an environment twin, shown in brackets)", 100,
                               50);
  // clang-format off
  desc.add_options()
    ("help,h", "show this help and exit")
    ("version", "show the version and exit")
    ("host", po::value<std::string>()->default_value(d.host)->value_name("ADDR"),
     "listen address [FLAREQ_HOST]")
    ("port", po::value<int>()->default_value(d.port)->value_name("N"),
     "listen port; 0 picks a free one, printed at start-up [FLAREQ_PORT]")
    ("db", po::value<std::string>()->default_value(d.db)->value_name("PATH"),
     "SQLite database file, created with its folder; :memory: keeps nothing [FLAREQ_DB]")
    ("api-token", po::value<std::vector<std::string>>()->value_name("TOKEN"),
     "accept only these Bearer tokens (repeat the flag; the variable takes a comma-separated "
     "list); without any, every well-formed credential is accepted [FLAREQ_API_TOKENS]")
    ("strict", po::value<bool>()->default_value(false)->implicit_value(true)->value_name("BOOL"),
     "push to an unknown queue is 404/10104 instead of creating it [FLAREQ_STRICT]")
    ("queue", po::value<std::vector<std::string>>()->value_name("NAME[=ID]"),
     "declare a queue that exists in every account; ID defaults to NAME (repeat the flag; the "
     "variable takes a comma-separated list) [FLAREQ_QUEUES]")
    ("max-delay-seconds", po::value<std::int64_t>()->default_value(d.max_delay_seconds)
       ->value_name("N"),
     "largest delay_seconds accepted, 0 to 86400 [FLAREQ_MAX_DELAY_SECONDS]")
    ("threads", po::value<int>()->default_value(d.threads)->value_name("N"),
     "I/O threads, 1 to 64 [FLAREQ_THREADS]")
    ("log-level", po::value<std::string>()->default_value("info")->value_name("LEVEL"),
     "debug, info (one access line per request), warn or error [FLAREQ_LOG_LEVEL]")
    ("max-body-bytes", po::value<std::size_t>()->default_value(d.max_body_bytes)->value_name("N"),
     "largest request body; larger ones get 413/10205 [FLAREQ_MAX_BODY_BYTES]");
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

bool is_valid_queue_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '-') return false;
  }
  return true;
}

storage::declared_queue parse_queue(const std::string& text) {
  auto eq = text.find('=');
  storage::declared_queue q;
  q.name = text.substr(0, eq);
  q.id = eq == std::string::npos ? q.name : text.substr(eq + 1);
  if (!is_valid_queue_name(q.name)) {
    throw config_error("--queue " + text +
                       ": the name must be 1 to 63 letters, digits or dashes, " +
                       "starting and ending with a letter or digit");
  }
  if (!is_valid_identifier(q.id)) {
    throw config_error("--queue " + text + ": the id must be 1 to 32 characters of " +
                       "[A-Za-z0-9_-]" +
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
  for (const env_twin& twin : env_twins) {
    auto value = env(twin.env);
    if (!value) continue;
    po::parsed_options from_env(&desc);
    po::option o;
    o.string_key = twin.key;
    if (twin.list) {
      o.value = split_list(*value);
    } else {
      o.value.push_back(*value);
    }
    from_env.options.push_back(std::move(o));
    try {
      po::store(from_env, vm);
    } catch (const po::error& e) {
      throw config_error(std::string(twin.env) + "=" + *value + ": " + e.what());
    }
  }
  po::notify(vm);

  parsed_config out;
  if (vm.count("help") != 0) {
    out.what = parsed_config::action::help;
    return out;
  }
  if (vm.count("version") != 0) {
    out.what = parsed_config::action::version;
    return out;
  }
  config& c = out.settings;
  c.host = vm["host"].as<std::string>();
  int port = vm["port"].as<int>();
  if (port < 0 || port > 65535)
    throw config_error("--port must be 0 to 65535, not " + std::to_string(port));
  c.port = static_cast<std::uint16_t>(port);
  c.db = vm["db"].as<std::string>();
  if (c.db.empty()) throw config_error("--db must not be empty");
  if (vm.count("api-token") != 0) {
    for (const std::string& t : vm["api-token"].as<std::vector<std::string>>()) {
      if (t.empty() || t.find_first_of(" \t\r\n") != std::string::npos) {
        throw config_error("--api-token must be a non-empty token without spaces");
      }
      c.api_tokens.push_back(t);
    }
  }
  c.strict = vm["strict"].as<bool>();
  if (vm.count("queue") != 0) {
    std::set<std::string> names, ids;
    for (const std::string& text : vm["queue"].as<std::vector<std::string>>()) {
      storage::declared_queue q = parse_queue(text);
      if (!names.insert(q.name).second)
        throw config_error("--queue " + q.name + " is declared twice");
      if (!ids.insert(q.id).second) throw config_error("--queue id " + q.id + " is declared twice");
      c.queues.push_back(std::move(q));
    }
  }
  c.max_delay_seconds = vm["max-delay-seconds"].as<std::int64_t>();
  if (c.max_delay_seconds < 0 || c.max_delay_seconds > 86400) {
    throw config_error("--max-delay-seconds must be 0 to 86400");
  }
  c.threads = vm["threads"].as<int>();
  if (c.threads < 1 || c.threads > 64) throw config_error("--threads must be 1 to 64");
  auto level = parse_log_level(vm["log-level"].as<std::string>());
  if (!level) throw config_error("--log-level must be debug, info, warn or error");
  c.level = *level;
  c.max_body_bytes = vm["max-body-bytes"].as<std::size_t>();
  if (c.max_body_bytes < 256 * 1024 || c.max_body_bytes > 64 * 1024 * 1024) {
    throw config_error("--max-body-bytes must be 262144 to 67108864");
  }
  return out;
}

std::string help_text() {
  std::ostringstream out;
  out << "flareq " << FLAREQ_VERSION
      << ": a local emulator of the Cloudflare Queues REST API\n\n"
         "Usage: flareq [options]\n\n"
         "Point the SDK at it with CLOUDFLARE_BASE_URL=http://127.0.0.1:8789/client/v4\n"
         "(wrangler: CLOUDFLARE_API_BASE_URL). Every route also answers without /client/v4.\n\n"
      << describe()
      << "\nA flag wins over its environment variable; the variable wins over the default.\n"
         "Health: GET /healthz (alive), GET /readyz (database open and migrated).\n"
         "SIGINT or SIGTERM: stop accepting, finish requests in flight, close the database.\n"
         "Exit codes: 0 after a clean stop, 2 for bad options or a database that cannot be\n"
         "opened, 1 for anything else.\n";
  return out.str();
}

std::string version_text() {
  return std::string("flareq ") + FLAREQ_VERSION + "\n";
}

}  // namespace flareq
