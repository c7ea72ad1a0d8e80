// Credentials, every case of decisions.md.
#include "server/auth.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flareq {
namespace {

const std::vector<std::string> no_tokens;
const std::vector<std::string> tokens = {"tok-one", "tok-two"};

// Returns the codes of the first error and of its chain, e.g. {6003, 6111}.
std::vector<int> codes(const std::optional<api_error>& e) {
  std::vector<int> out;
  if (!e) return out;
  out.push_back(e->errors().front().code);
  for (const auto& c : e->errors().front().error_chain) out.push_back(c.code);
  return out;
}

TEST(auth_test, nothing_at_all_is_9106) {
  auto e = check_credentials({}, no_tokens);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status(), 400);
  EXPECT_EQ(codes(e), std::vector<int>{9106});
  EXPECT_EQ(e->errors().front().message,
            "Missing X-Auth-Key, X-Auth-Email or Authorization headers");
}

TEST(auth_test, any_bearer_token_without_configured_tokens) {
  EXPECT_FALSE(check_credentials({.authorization = "Bearer abc"}, no_tokens));
  EXPECT_FALSE(check_credentials({.authorization = "bearer abc"}, no_tokens));
  EXPECT_FALSE(check_credentials({.authorization = "Bearer  spaced "}, no_tokens));
}

TEST(auth_test, malformed_authorization_is_6003_6111) {
  for (const char* header : {"", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer   ",
                             "Bearerabc", "Token abc", "Bearer a b"}) {
    auto e = check_credentials({.authorization = header}, no_tokens);
    ASSERT_TRUE(e) << header;
    EXPECT_EQ(e->status(), 400);
    EXPECT_EQ(codes(e), (std::vector<int>{6003, 6111})) << header;
    EXPECT_EQ(e->errors().front().message, "Invalid request headers");
  }
}

TEST(auth_test, global_key_pair_is_accepted_without_tokens) {
  EXPECT_FALSE(check_credentials({.auth_email = "me@example.com", .auth_key = "k"}, no_tokens));
}

TEST(auth_test, half_a_key_pair_is_6003_with_the_missing_half) {
  EXPECT_EQ(codes(check_credentials({.auth_email = "me@example.com"}, no_tokens)),
            (std::vector<int>{6003, 6103}));
  EXPECT_EQ(codes(check_credentials({.auth_key = "k"}, no_tokens)), (std::vector<int>{6003, 6102}));
  EXPECT_EQ(codes(check_credentials({.auth_email = "", .auth_key = ""}, no_tokens)),
            (std::vector<int>{6003, 6103, 6102}));
  EXPECT_EQ(codes(check_credentials({.auth_email = "e", .auth_key = " "}, no_tokens)),
            (std::vector<int>{6003, 6103}));
}

TEST(auth_test, configured_tokens_must_match_exactly) {
  EXPECT_FALSE(check_credentials({.authorization = "Bearer tok-one"}, tokens));
  EXPECT_FALSE(check_credentials({.authorization = "Bearer tok-two"}, tokens));
  for (const char* header : {"Bearer tok-on", "Bearer tok-one1", "Bearer TOK-ONE", "Bearer x"}) {
    auto e = check_credentials({.authorization = header}, tokens);
    ASSERT_TRUE(e) << header;
    EXPECT_EQ(e->status(), 403);
    EXPECT_EQ(codes(e), std::vector<int>{10000});
    EXPECT_EQ(e->errors().front().message, "Authentication error");
  }
}

TEST(auth_test, malformed_beats_unknown_with_tokens) {
  EXPECT_EQ(codes(check_credentials({.authorization = "Basic x"}, tokens)),
            (std::vector<int>{6003, 6111}));
}

TEST(auth_test, key_pair_is_rejected_when_tokens_are_configured) {
  auto e = check_credentials({.auth_email = "me@example.com", .auth_key = "k"}, tokens);
  EXPECT_EQ(codes(e), std::vector<int>{10000});
}

TEST(auth_test, authorization_header_wins_over_key_pair) {
  EXPECT_EQ(codes(check_credentials(
                {.authorization = "Basic x", .auth_email = "e", .auth_key = "k"}, no_tokens)),
            (std::vector<int>{6003, 6111}));
}

// Header values may carry bytes past 0x7f: a token in UTF-8 matches.
TEST(auth_test, a_non_ascii_token_matches) {
  const std::vector<std::string> utf8 = {"caf\xc3\xa9-token"};
  EXPECT_FALSE(check_credentials({.authorization = "Bearer caf\xc3\xa9-token"}, utf8));
  EXPECT_EQ(codes(check_credentials({.authorization = "Bearer cafe-token"}, utf8)),
            std::vector<int>{10000});
  EXPECT_FALSE(is_valid_token("a b"));
  EXPECT_FALSE(is_valid_token("a\x7f"));
  EXPECT_FALSE(is_valid_token(""));
  EXPECT_TRUE(is_valid_token("\xff\xfe"));
}

TEST(auth_test, constant_time_equal) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

}  // namespace
}  // namespace flareq
