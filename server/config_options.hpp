// The option table behind config.cpp and config_file.cpp: one row per
// setting gives its flag, environment twin, config-file key, type, default,
// help and the check that stores it into config. Internal to the server.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <span>
#include <string>

#include "server/config.hpp"

namespace flareq::options {

namespace po = boost::program_options;

enum class kind { text, number, boolean, text_list };

struct option {
  const char* flag;      // "max-db-bytes"
  const char* env;       // "FLAREQ_MAX_DB_BYTES"; nullptr: none
  const char* file_key;  // "max_db_bytes"; nullptr: not in the file
  kind type;
  const char* value_name;
  const char* default_text;  // nullptr: no default
  const char* help;
  // Checks the value in vm and stores it into c; throws config_error.
  void (*apply)(const po::variables_map& vm, config& c);
};

// Every setting, in --help's order.
std::span<const option> table();

// The Program_options description of the table (help and version too).
po::options_description describe();

// Builds the settings from stored options, each checked by its row.
config settings_from(const po::variables_map& vm);

// Throws config_error naming the option.
[[noreturn]] void fail(const char* flag, const std::string& message);

// Reads the configuration file (config_file.cpp): its settings are stored
// into vm below the flags and variables already there; its "accounts" are
// returned as they are, to be read once the settings in effect are known.
std::optional<boost::json::value> load_config_file(const std::string& file,
                                                   const po::options_description& desc,
                                                   po::variables_map& vm);

// Reads the file's accounts against the settings in effect.
std::vector<storage::account_spec> read_accounts(
    const boost::json::value& v, const std::string& file, std::int64_t max_delay,
    const std::vector<storage::declared_queue>& declared);

}  // namespace flareq::options
