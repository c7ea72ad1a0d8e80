// The configuration file (see config.hpp): settings under the option
// table's file keys, and "accounts", the queues to provision. Every problem
// names the file and the key.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "server/api_error.hpp"
#include "server/config_options.hpp"
#include "server/router.hpp"
#include "server/rules.hpp"

namespace flareq::options {
namespace json = boost::json;
namespace {

[[noreturn]] void file_error(const std::string& file, const std::string& key,
                             const std::string& message) {
  throw config_error(key, file + ": \"" + key + "\": " + message);
}

std::string scalar_text(const json::value& v, kind type, const std::string& file,
                        const std::string& key) {
  if (type == kind::text && v.is_string()) return std::string(v.get_string());
  if (type == kind::number && v.is_int64()) return std::to_string(v.get_int64());
  if (type == kind::boolean && v.is_bool()) return v.get_bool() ? "true" : "false";
  static constexpr const char* wanted[] = {"a string", "a whole number", "true or false",
                                           "a list of strings"};
  file_error(file, key, std::string("must be ") + wanted[static_cast<int>(type)]);
}

}  // namespace

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
    const option* known = nullptr;
    for (const option& row : table()) {
      if (row.file_key != nullptr && key == row.file_key) known = &row;
    }
    if (known == nullptr) file_error(file, key, "unknown key");
    po::option o;
    o.string_key = known->flag;
    if (known->type == kind::text_list) {
      const json::array* list = value.if_array();
      if (list == nullptr) file_error(file, key, "must be a list of strings");
      for (const json::value& item : *list) {
        if (!item.is_string()) file_error(file, key, "must be a list of strings");
        o.value.emplace_back(item.get_string());
      }
    } else {
      o.value.push_back(scalar_text(value, known->type, file, key));
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
    for (const option& row : table()) {
      if (row.file_key != nullptr && key == row.flag) key = row.file_key;
    }
    file_error(file, key, e.what());
  }
  po::store(from_file, vm);
  if (const json::value* accounts = obj->if_contains("accounts")) return *accounts;
  return std::nullopt;
}

}  // namespace flareq::options
