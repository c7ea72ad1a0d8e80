// Route matching: routes, methods, identifier rules, the /client/v4 prefix.
#include "server/router.hpp"

#include <gtest/gtest.h>

#include <string>

namespace flareq {
namespace {

using outcome = route_match::outcome;

class router_test : public ::testing::Test {
 protected:
  router_test() {
    r.add("GET", "/healthz", 0);
    r.add("POST", "/accounts/:account_id/queues/:queue_id/messages", 1);
  }
  router r;
};

TEST_F(router_test, matches_push_with_and_without_prefix) {
  for (std::string prefix : {"", "/client/v4"}) {
    std::string target = prefix + "/accounts/acc/queues/q1/messages";
    auto m = r.match("POST", target);
    ASSERT_EQ(m.result, outcome::found) << prefix;
    EXPECT_EQ(m.index, 1u);
    EXPECT_EQ(m.params.get("account_id"), "acc");
    EXPECT_EQ(m.params.get("queue_id"), "q1");
    EXPECT_EQ(m.path, "/accounts/acc/queues/q1/messages");
  }
}

// A path with a route's shape but an invalid identifier names the route and
// the identifier, so the app can answer 10107 for a queue id.
TEST_F(router_test, names_the_malformed_identifier_of_a_near_route) {
  auto m = r.match("POST", "/client/v4/accounts/acc/queues/bad.id/messages");
  EXPECT_EQ(m.result, outcome::no_route);
  ASSERT_TRUE(m.near_index.has_value());
  EXPECT_EQ(*m.near_index, 1u);
  EXPECT_EQ(m.malformed, "queue_id");
  m = r.match("POST", "/accounts/" + std::string(33, 'a') + "/queues//messages");
  ASSERT_TRUE(m.near_index.has_value());
  EXPECT_EQ(m.malformed, "account_id");                        // the first invalid one
  m = r.match("GET", "/accounts/acc/queues/bad.id/messages");  // another method
  EXPECT_FALSE(m.near_index.has_value());
  m = r.match("POST", "/accounts/acc/queues/bad.id/other");  // another shape
  EXPECT_FALSE(m.near_index.has_value());
}

TEST_F(router_test, strips_the_query) {
  auto m = r.match("POST", "/client/v4/accounts/a/queues/q/messages?x=1&y=2");
  EXPECT_EQ(m.result, outcome::found);
  EXPECT_EQ(m.path, "/accounts/a/queues/q/messages");
}

TEST_F(router_test, known_path_with_other_method_is_405) {
  for (const char* method : {"GET", "PUT", "PATCH", "DELETE"}) {
    EXPECT_EQ(r.match(method, "/accounts/a/queues/q/messages").result, outcome::method_not_allowed)
        << method;
  }
  EXPECT_EQ(r.match("POST", "/healthz").result, outcome::method_not_allowed);
}

TEST_F(router_test, unknown_paths_are_no_route) {
  for (const char* path :
       {"/", "", "/accounts", "/accounts/a/queues", "/accounts/a/queues/q/messages/x",
        "/accounts/a/queues/q/message", "/client/v4", "/client/v4x/accounts/a/queues/q/messages",
        "/accounts/a/queues/q/messages/"}) {
    EXPECT_EQ(r.match("POST", path).result, outcome::no_route) << path;
  }
}

TEST_F(router_test, identifier_lengths) {
  auto with_queue = [&](const std::string& id) {
    return r.match("POST", "/accounts/a/queues/" + id + "/messages").result;
  };
  EXPECT_EQ(with_queue(""), outcome::no_route);
  EXPECT_EQ(with_queue("x"), outcome::found);
  EXPECT_EQ(with_queue(std::string(32, 'a')), outcome::found);
  EXPECT_EQ(with_queue(std::string(33, 'a')), outcome::no_route);
  auto with_account = [&](const std::string& id) {
    return r.match("POST", "/accounts/" + id + "/queues/q/messages").result;
  };
  EXPECT_EQ(with_account(""), outcome::no_route);
  EXPECT_EQ(with_account("1"), outcome::found);
  EXPECT_EQ(with_account(std::string(32, '9')), outcome::found);
  EXPECT_EQ(with_account(std::string(33, '9')), outcome::no_route);
}

TEST_F(router_test, identifier_characters) {
  EXPECT_EQ(r.match("POST", "/accounts/A-z_09/queues/Q_-q/messages").result, outcome::found);
  for (const char* bad : {"a.b", "a%20b", "a b", "a+b", "a~b", "%2e%2e", "..", "a:b", "é", "a*"}) {
    EXPECT_EQ(r.match("POST", std::string("/accounts/a/queues/") + bad + "/messages").result,
              outcome::no_route)
        << bad;
  }
}

TEST_F(router_test, bad_identifier_with_wrong_method_is_no_route) {
  EXPECT_EQ(r.match("GET", "/accounts/a/queues/bad.id/messages").result, outcome::no_route);
}

TEST(identifier_test, rules) {
  EXPECT_TRUE(is_valid_identifier("023e105f4ecef8ad9ca31a8372d0c353"));
  EXPECT_FALSE(is_valid_identifier(""));
  EXPECT_FALSE(is_valid_identifier(std::string(33, 'a')));
  EXPECT_FALSE(is_valid_identifier("a/b"));
}

}  // namespace
}  // namespace flareq
