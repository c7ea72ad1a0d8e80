// Settings: flags, environment twins, precedence, validation.
#include "server/config.hpp"
#include "server/config_options.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace flareq {
namespace {

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

config parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  auto parsed = parse_config(args, env_of(std::move(env)));
  EXPECT_EQ(parsed.what, parsed_config::action::run);
  return parsed.settings;
}

TEST(config_test, defaults) {
  config c = parse({});
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 8789);
  EXPECT_EQ(c.db, "./data/flareq.db");
  EXPECT_TRUE(c.api_tokens.empty());
  EXPECT_FALSE(c.lenient);
  EXPECT_TRUE(c.notices.empty());
  EXPECT_TRUE(c.queues.empty());
  EXPECT_EQ(c.max_delay_seconds, 86400);
  EXPECT_EQ(c.level, log_level::info);
  EXPECT_EQ(c.max_body_bytes, 1024u * 1024u);
}

TEST(config_test, flags) {
  config c = parse({"--host",
                    "0.0.0.0",
                    "--port=0",
                    "--db",
                    ":memory:",
                    "--api-token",
                    "a",
                    "--api-token",
                    "b",
                    "--lenient",
                    "--queue",
                    "orders",
                    "--queue",
                    "jobs=0123456789abcdef0123456789abcdef",
                    "--max-delay-seconds",
                    "43200",
                    "--threads",
                    "4",
                    "--log-level",
                    "warn",
                    "--max-body-bytes",
                    "2097152"});
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.db, ":memory:");
  EXPECT_EQ(c.api_tokens, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(c.lenient);
  ASSERT_EQ(c.queues.size(), 2u);
  EXPECT_EQ(c.queues[0].name, "orders");
  EXPECT_EQ(c.queues[0].id, "orders");
  EXPECT_EQ(c.queues[1].name, "jobs");
  EXPECT_EQ(c.queues[1].id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c.max_delay_seconds, 43200);
  EXPECT_EQ(c.threads, 4);
  EXPECT_EQ(c.level, log_level::warn);
  EXPECT_EQ(c.max_body_bytes, 2097152u);
}

TEST(config_test, environment) {
  config c = parse({}, {{"FLAREQ_HOST", "::1"},
                        {"FLAREQ_PORT", "9000"},
                        {"FLAREQ_DB", "/tmp/x.db"},
                        {"FLAREQ_API_TOKENS", "t1,t2"},
                        {"FLAREQ_LENIENT", "true"},
                        {"FLAREQ_QUEUES", "a,b=bid"},
                        {"FLAREQ_MAX_DELAY_SECONDS", "100"},
                        {"FLAREQ_THREADS", "3"},
                        {"FLAREQ_LOG_LEVEL", "error"},
                        {"FLAREQ_MAX_BODY_BYTES", "300000"}});
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.db, "/tmp/x.db");
  EXPECT_EQ(c.api_tokens, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_TRUE(c.lenient);
  ASSERT_EQ(c.queues.size(), 2u);
  EXPECT_EQ(c.queues[1].id, "bid");
  EXPECT_EQ(c.max_delay_seconds, 100);
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.level, log_level::error);
  EXPECT_EQ(c.max_body_bytes, 300000u);
}

TEST(config_test, lenient_from_environment_accepts_words) {
  EXPECT_FALSE(parse({}, {{"FLAREQ_LENIENT", "false"}}).lenient);
  EXPECT_FALSE(parse({}, {{"FLAREQ_LENIENT", "0"}}).lenient);
  EXPECT_TRUE(parse({}, {{"FLAREQ_LENIENT", "1"}}).lenient);
  EXPECT_TRUE(parse({}, {{"FLAREQ_LENIENT", "yes"}}).lenient);
}

// --strict is a deprecated no-op: accepted from flag, variable and file,
// with a notice for the log; --strict=false points at --lenient.
TEST(config_test, strict_is_a_deprecated_no_op) {
  for (const config& c : {parse({"--strict"}), parse({}, {{"FLAREQ_STRICT", "true"}})}) {
    EXPECT_FALSE(c.lenient);
    ASSERT_EQ(c.notices.size(), 1u);
    EXPECT_NE(c.notices[0].find("deprecated"), std::string::npos) << c.notices[0];
  }
  config off = parse({"--strict=false"});
  EXPECT_FALSE(off.lenient);
  ASSERT_EQ(off.notices.size(), 1u);
  EXPECT_NE(off.notices[0].find("--lenient"), std::string::npos) << off.notices[0];
  config both = parse({"--strict", "--lenient"});
  EXPECT_TRUE(both.lenient);
  EXPECT_EQ(both.notices.size(), 1u);
}

TEST(config_test, flag_wins_over_environment) {
  std::map<std::string, std::string> env = {{"FLAREQ_PORT", "9000"},
                                            {"FLAREQ_API_TOKENS", "env1,env2"},
                                            {"FLAREQ_LENIENT", "true"},
                                            {"FLAREQ_DB", "env.db"}};
  config c = parse({"--port", "9100", "--api-token", "flag", "--lenient=false"}, env);
  EXPECT_EQ(c.port, 9100);
  EXPECT_EQ(c.api_tokens, std::vector<std::string>{"flag"});
  EXPECT_FALSE(c.lenient);
  EXPECT_EQ(c.db, "env.db");  // no flag: the variable wins over the default
}

// One table drives every setting: each row has its flag and variable in
// --help, and its file key (when it has one) is read from a config file.
TEST(config_test, every_option_row_reaches_help_environment_and_file) {
  std::string help = help_text();
  for (const options::option& row : options::table()) {
    EXPECT_NE(help.find(std::string("--") + row.flag), std::string::npos) << row.flag;
    ASSERT_NE(row.env, nullptr) << row.flag;
    EXPECT_NE(help.find(row.env), std::string::npos) << row.flag;
    ASSERT_NE(row.apply, nullptr) << row.flag;
  }
  std::set<std::string> keys;
  for (const options::option& row : options::table()) {
    if (row.file_key != nullptr) {
      EXPECT_TRUE(keys.insert(row.file_key).second) << row.file_key;
    }
  }
  for (const char* key :
       {"host", "port", "db", "api_tokens", "lenient", "strict", "queues", "max_delay_seconds",
        "threads", "log_level", "log_format", "max_body_bytes", "max_header_bytes",
        "request_timeout_ms", "idle_timeout_ms", "max_connections", "max_db_bytes"}) {
    EXPECT_TRUE(keys.contains(key)) << key;
  }
}

TEST(config_test, harness_settings) {
  config c = parse_config(std::vector<std::string>{}, env_of({})).settings;
  EXPECT_FALSE(c.manual_clock);
  EXPECT_FALSE(c.seed);
  EXPECT_EQ(c.journal_size, 100'000);
  c = parse_config(
          std::vector<std::string>{"--clock", "manual", "--seed", "7", "--journal-size", "0"},
          env_of({}))
          .settings;
  EXPECT_TRUE(c.manual_clock);
  EXPECT_FALSE(c.clock_start_ms);
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.journal_size, 0);
  c = parse_config(std::vector<std::string>{}, env_of({{"FLAREQ_CLOCK", "manual:1795981552000"}}))
          .settings;
  EXPECT_TRUE(c.manual_clock);
  EXPECT_EQ(c.clock_start_ms, 1'795'981'552'000);
}

TEST(config_test, help_and_version) {
  EXPECT_EQ(parse_config(std::vector<std::string>{"--help"}, env_of({})).what,
            parsed_config::action::help);
  EXPECT_EQ(parse_config(std::vector<std::string>{"-h"}, env_of({})).what,
            parsed_config::action::help);
  EXPECT_EQ(parse_config(std::vector<std::string>{"--version"}, env_of({})).what,
            parsed_config::action::version);
  std::string help = help_text();
  for (const char* word :
       {"--host",        "FLAREQ_HOST",    "--port",           "FLAREQ_PORT",
        "--db",          "FLAREQ_DB",      "--api-token",      "FLAREQ_API_TOKENS",
        "--lenient",     "FLAREQ_LENIENT", "--strict",         "--queue",
        "FLAREQ_QUEUES", "declared",       "stays deleted",    "--max-delay-seconds",
        "--log-level",   "8789",           "./data/flareq.db", "86400"}) {
    EXPECT_NE(help.find(word), std::string::npos) << word;
  }
}

TEST(config_test, bad_values_name_the_setting) {
  struct bad_case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string mentions;
  };
  std::vector<bad_case> cases = {
      {{"--port", "70000"}, {}, "--port"},
      {{"--port", "abc"}, {}, "port"},
      {{}, {{"FLAREQ_PORT", "x"}}, "FLAREQ_PORT"},
      {{"--bogus"}, {}, "bogus"},
      {{"positional"}, {}, "positional"},
      {{"--db", ""}, {}, "--db"},
      {{"--api-token", ""}, {}, "--api-token"},
      {{"--queue", "-bad-"}, {}, "--queue"},
      {{"--queue", "ok=bad.id"}, {}, "--queue"},
      {{"--queue", std::string(40, 'q')}, {}, "NAME=ID"},
      {{"--queue", "a", "--queue", "a=other"}, {}, "twice"},
      {{"--max-delay-seconds", "86401"}, {}, "--max-delay-seconds"},
      {{"--threads", "0"}, {}, "--threads"},
      {{"--log-level", "loud"}, {}, "--log-level"},
      {{"--max-body-bytes", "10"}, {}, "--max-body-bytes"},
      {{}, {{"FLAREQ_STRICT", "maybe"}}, "FLAREQ_STRICT"},
      // Negative sizes do not wrap around into huge ones.
      {{"--max-db-bytes=-1"}, {}, "max-db-bytes"},
      {{"--max-db-bytes=65536"}, {}, "at least 262144"},
      {{"--max-body-bytes=-18446744073709289472"}, {}, "max-body-bytes"},
      {{"--max-header-bytes=-1"}, {}, "max-header-bytes"},
      {{}, {{"FLAREQ_MAX_DB_BYTES", "-1"}}, "max-db-bytes"},
      {{}, {{"FLAREQ_MAX_BODY_BYTES", "-18446744073709289472"}}, "FLAREQ_MAX_BODY_BYTES"},
      // An empty token list never means "accept any credential".
      {{}, {{"FLAREQ_API_TOKENS", ""}}, "FLAREQ_API_TOKENS"},
      {{}, {{"FLAREQ_API_TOKENS", ","}}, "FLAREQ_API_TOKENS"},
      {{}, {{"FLAREQ_API_TOKENS", " "}}, "api-token"},
      // Tokens an Authorization header could never carry.
      {{"--api-token", "has space"}, {}, "--api-token"},
      {{"--api-token", "tab\there"}, {}, "--api-token"},
      {{"--api-token", std::string("nul\0x", 5)}, {}, "--api-token"},
      {{"--host", "localhost"}, {}, "--host localhost: not an IP address"},
      {{"--host", "300.1.1.1"}, {}, "--host"},
      {{"--clock", "sometimes"}, {}, "--clock must be system, manual"},
      {{"--clock", "manual:soon"}, {}, "manual:START_MS"},
      {{"--clock", "manual:-5"}, {}, "manual:START_MS"},
      {{"--seed", "-1"}, {}, "--seed"},
      {{"--journal-size", "-1"}, {}, "--journal-size"},
  };
  for (const auto& c : cases) {
    try {
      parse_config(c.args, env_of(c.env));
      ADD_FAILURE() << "accepted: " << c.mentions;
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find(c.mentions), std::string::npos)
          << e.what() << " should mention " << c.mentions;
    }
  }
}

}  // namespace
}  // namespace flareq

namespace flareq {
namespace {

class config_file_test : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    std::string path = dir.file("flareq.json");
    std::ofstream(path) << text;
    return path;
  }
  test::temp_dir dir;
};

TEST_F(config_file_test, settings_and_provisioning) {
  std::string path = write(R"({
    "host": "0.0.0.0", "port": 9999, "db": "/tmp/f.db", "api_tokens": ["a", "b"],
    "lenient": true, "strict": true, "max_delay_seconds": 43200, "threads": 3, "log_level": "warn",
    "log_format": "json", "max_body_bytes": 524288, "queues": ["shared"],
    "accounts": [{"id": "acc1", "queues": [
      {"name": "orders", "id": "0123456789abcdef0123456789abcdef",
       "settings": {"delivery_delay": 5, "message_retention_period": 600},
       "consumer": {"type": "http_pull", "dead_letter_queue": "orders-dlq",
                    "settings": {"max_retries": 2, "visibility_timeout_ms": 1000}}},
      {"name": "plain"}]}]
  })");
  config c = parse({"--config", path});
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 9999);
  EXPECT_EQ(c.db, "/tmp/f.db");
  EXPECT_EQ(c.api_tokens, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(c.lenient);
  EXPECT_EQ(c.notices.size(), 1u);  // "strict" is deprecated
  EXPECT_EQ(c.max_delay_seconds, 43200);
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.level, log_level::warn);
  EXPECT_EQ(c.format, log_format::json);
  EXPECT_EQ(c.max_body_bytes, 524288u);
  ASSERT_EQ(c.queues.size(), 1u);
  EXPECT_EQ(c.queues[0].name, "shared");
  ASSERT_EQ(c.accounts.size(), 1u);
  EXPECT_EQ(c.accounts[0].id, "acc1");
  ASSERT_EQ(c.accounts[0].queues.size(), 2u);
  const auto& orders = c.accounts[0].queues[0];
  EXPECT_EQ(orders.name, "orders");
  EXPECT_EQ(orders.id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(orders.settings.delivery_delay, 5);
  EXPECT_EQ(orders.settings.message_retention_period, 600);
  ASSERT_TRUE(orders.consumer);
  EXPECT_EQ(orders.consumer->type, storage::consumer_type::http_pull);
  EXPECT_EQ(orders.consumer->dead_letter_queue, "orders-dlq");
  EXPECT_EQ(orders.consumer->settings.max_retries, 2);
  EXPECT_EQ(c.accounts[0].queues[1].id, "");
  EXPECT_FALSE(c.accounts[0].queues[1].consumer);
}

TEST_F(config_file_test, flag_beats_environment_beats_file) {
  std::string path = write(R"({"port": 1111, "db": "file.db", "host": "127.0.0.2",
                               "log_level": "error"})");
  config c = parse({"--config", path, "--port", "3333"},
                   {{"FLAREQ_PORT", "2222"}, {"FLAREQ_DB", "env.db"}});
  EXPECT_EQ(c.port, 3333);         // flag
  EXPECT_EQ(c.db, "env.db");       // variable over file
  EXPECT_EQ(c.host, "127.0.0.2");  // file over default
  EXPECT_EQ(c.level, log_level::error);
  // The file can come from the environment too.
  config e = parse({}, {{"FLAREQ_CONFIG", path}});
  EXPECT_EQ(e.port, 1111);
}

TEST_F(config_file_test, every_bad_file_names_its_key) {
  struct bad_case {
    std::string text;
    std::string key;
  };
  std::vector<bad_case> cases = {
      {R"({"prot": 1})", "\"prot\""},
      {R"({"port": "8789"})", "\"port\""},
      {R"({"port": 70000})", "\"port\""},
      {R"({"host": 5})", "\"host\""},
      {R"({"db": ""})", "\"db\""},
      {R"({"strict": "yes"})", "\"strict\""},
      {R"({"lenient": 1})", "\"lenient\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "loop", "consumer":
          {"type": "http_pull", "dead_letter_queue": "loop"}}]}]})",
       "accounts[0].queues[0].consumer.dead_letter_queue"},
      {R"({"api_tokens": "abc"})", "\"api_tokens\""},
      {R"({"api_tokens": [1]})", "\"api_tokens\""},
      {R"({"api_tokens": [""]})", "\"api_tokens\""},
      {R"({"queues": ["-bad-"]})", "\"queues\""},
      {R"({"max_delay_seconds": 90000})", "\"max_delay_seconds\""},
      {R"({"threads": 0})", "\"threads\""},
      {R"({"log_level": "loud"})", "\"log_level\""},
      {R"({"log_format": "xml"})", "\"log_format\""},
      {R"({"max_body_bytes": 1})", "\"max_body_bytes\""},
      {R"({"max_body_bytes": -18446744073709289472})", "\"max_body_bytes\""},
      {R"({"max_db_bytes": -1})", "\"max_db_bytes\""},
      {R"({"api_tokens": []})", "\"api_tokens\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "q1", "id": "same"}, {"name": "q2", "id": "same"}]}]})",
       "\"accounts[0].queues[1].id\": is same, the id of accounts[0].queues[0] too"},
      {R"({"accounts": {}})", "\"accounts\""},
      {R"({"accounts": [{"queues": []}]})", "\"accounts[0].id\""},
      {R"({"accounts": [{"id": "a.b"}]})", "\"accounts[0].id\""},
      {R"({"accounts": [{"id": "a", "extra": 1}]})", "\"accounts[0].extra\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "no way"}]}]})",
       "\"accounts[0].queues[0].name\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "q"}, {"name": "q"}]}]})",
       "\"accounts[0].queues[1].name\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "q", "id": "x.y"}]}]})",
       "\"accounts[0].queues[0].id\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "q", "settings": {"delivery_delay": -1}}]}]})",
       "\"accounts[0].queues[0].settings\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "q", "consumer": {"type": "cron"}}]}]})",
       "\"accounts[0].queues[0].consumer\""},
      {R"({"accounts": [{"id": "a", "queues": [{"name": "q", "colour": 1}]}]})",
       "\"accounts[0].queues[0].colour\""},
  };
  for (const auto& c : cases) {
    std::string path = write(c.text);
    try {
      parse_config(std::vector<std::string>{"--config", path}, env_of({}));
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const config_error& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(c.key), std::string::npos) << what << " should name " << c.key;
    }
  }
}

// Provisioned settings are checked against the limits in effect, not the
// file's own: a flag that lowers --max-delay-seconds applies to them.
TEST_F(config_file_test, provisioning_is_checked_against_the_settings_in_effect) {
  std::string path = write(R"({"max_delay_seconds": 86400, "accounts": [{"id": "a", "queues": [
      {"name": "q", "settings": {"delivery_delay": 50000}}]}]})");
  EXPECT_EQ(parse({"--config", path}).accounts.at(0).queues.at(0).settings.delivery_delay, 50000);
  try {
    parse_config(std::vector<std::string>{"--config", path, "--max-delay-seconds", "43200"},
                 env_of({}));
    ADD_FAILURE() << "a 50000 s delay passed a 43200 s limit";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("accounts[0].queues[0].settings"), std::string::npos)
        << e.what();
  }
}

// A variable set but empty counts as unset (FLAREQ_LENIENT= is not true),
// but for the tokens; a flag wins over any variable; --help and --version
// answer whatever the variables hold.
TEST(config_test, empty_variables) {
  config c = parse({}, {{"FLAREQ_LENIENT", ""}, {"FLAREQ_PORT", ""}, {"FLAREQ_LOG_LEVEL", ""}});
  EXPECT_FALSE(c.lenient);
  EXPECT_EQ(c.port, 8789);
  EXPECT_EQ(c.level, log_level::info);
  EXPECT_EQ(parse({"--api-token", "t"}, {{"FLAREQ_API_TOKENS", ","}}).api_tokens,
            std::vector<std::string>{"t"});
  EXPECT_TRUE(parse({"--lenient"}, {{"FLAREQ_LENIENT", ""}}).lenient);
  for (const char* flag : {"--help", "--version"}) {
    auto parsed = parse_config(
        std::vector<std::string>{flag},
        env_of({{"FLAREQ_API_TOKENS", ""}, {"FLAREQ_STRICT", ""}, {"FLAREQ_PORT", "abc"}}));
    EXPECT_NE(parsed.what, parsed_config::action::run) << flag;
  }
}

TEST(config_test, a_non_ascii_token_is_accepted_and_can_match) {
  config c = parse({"--api-token", "caf\xc3\xa9-token"});
  EXPECT_EQ(c.api_tokens, std::vector<std::string>{"caf\xc3\xa9-token"});
}

// An account listed twice, or a provisioned queue that contradicts a
// declared one, would make a queue vanish at provisioning: exit 2.
TEST_F(config_file_test, contradictions_between_accounts_and_declared_queues) {
  std::string twice = write(R"({"accounts": [{"id": "a", "queues": [{"name": "q1", "id": "same"}]},
                                             {"id": "a", "queues": [{"name": "q2", "id": "same"}]}]})");
  try {
    parse_config(std::vector<std::string>{"--config", twice}, env_of({}));
    ADD_FAILURE() << "an account listed twice was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("accounts[1].id"), std::string::npos) << e.what();
  }
  std::string file =
      write(R"({"accounts": [{"id": "a", "queues": [{"name": "q2", "id": "same"}]}]})");
  for (const std::string& declared : {std::string("q1=same"), std::string("q2=other")}) {
    try {
      parse_config(std::vector<std::string>{"--config", file, "--queue", declared}, env_of({}));
      ADD_FAILURE() << "--queue " << declared << " was accepted";
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find("contradicts --queue"), std::string::npos) << e.what();
    }
  }
  // A file queue without an id takes its declared id.
  std::string named = write(R"({"accounts": [{"id": "a", "queues": [{"name": "orders"}]}]})");
  EXPECT_EQ(parse({"--config", named, "--queue", "orders=oid"}).accounts.at(0).queues.at(0).id,
            "oid");
  // Agreeing, or unrelated, is fine.
  EXPECT_EQ(parse({"--config", file, "--queue", "q2=same"}).accounts.size(), 1u);
  EXPECT_EQ(parse({"--config", file, "--queue", "q3"}).accounts.size(), 1u);
}

TEST_F(config_file_test, unreadable_or_invalid_files) {
  for (const std::string& text : {std::string("{nope"), std::string("[1,2]")}) {
    std::string path = write(text);
    EXPECT_THROW(parse_config(std::vector<std::string>{"--config", path}, env_of({})), config_error)
        << text;
  }
  EXPECT_THROW(
      parse_config(std::vector<std::string>{"--config", dir.file("missing.json")}, env_of({})),
      config_error);
}

}  // namespace
}  // namespace flareq
