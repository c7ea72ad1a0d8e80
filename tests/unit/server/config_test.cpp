// Settings: flags, environment twins, precedence, validation.
#include "server/config.hpp"

#include <gtest/gtest.h>

#include <map>
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
  EXPECT_FALSE(c.strict);
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
                    "--strict",
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
  EXPECT_TRUE(c.strict);
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
                        {"FLAREQ_STRICT", "true"},
                        {"FLAREQ_QUEUES", "a,b=bid"},
                        {"FLAREQ_MAX_DELAY_SECONDS", "100"},
                        {"FLAREQ_THREADS", "3"},
                        {"FLAREQ_LOG_LEVEL", "error"},
                        {"FLAREQ_MAX_BODY_BYTES", "300000"}});
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.db, "/tmp/x.db");
  EXPECT_EQ(c.api_tokens, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_TRUE(c.strict);
  ASSERT_EQ(c.queues.size(), 2u);
  EXPECT_EQ(c.queues[1].id, "bid");
  EXPECT_EQ(c.max_delay_seconds, 100);
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.level, log_level::error);
  EXPECT_EQ(c.max_body_bytes, 300000u);
}

TEST(config_test, strict_from_environment_accepts_words) {
  EXPECT_FALSE(parse({}, {{"FLAREQ_STRICT", "false"}}).strict);
  EXPECT_FALSE(parse({}, {{"FLAREQ_STRICT", "0"}}).strict);
  EXPECT_TRUE(parse({}, {{"FLAREQ_STRICT", "1"}}).strict);
  EXPECT_TRUE(parse({}, {{"FLAREQ_STRICT", "yes"}}).strict);
}

TEST(config_test, flag_wins_over_environment) {
  std::map<std::string, std::string> env = {{"FLAREQ_PORT", "9000"},
                                            {"FLAREQ_API_TOKENS", "env1,env2"},
                                            {"FLAREQ_STRICT", "true"},
                                            {"FLAREQ_DB", "env.db"}};
  config c = parse({"--port", "9100", "--api-token", "flag", "--strict=false"}, env);
  EXPECT_EQ(c.port, 9100);
  EXPECT_EQ(c.api_tokens, std::vector<std::string>{"flag"});
  EXPECT_FALSE(c.strict);
  EXPECT_EQ(c.db, "env.db");  // no flag: the variable wins over the default
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
       {"--host", "FLAREQ_HOST", "--port", "FLAREQ_PORT", "--db", "FLAREQ_DB", "--api-token",
        "FLAREQ_API_TOKENS", "--strict", "FLAREQ_STRICT", "--queue", "FLAREQ_QUEUES",
        "--max-delay-seconds", "--log-level", "8789", "./data/flareq.db", "86400"}) {
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
