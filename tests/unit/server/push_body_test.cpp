// Push body validation: every error row of decisions.md that applies to push.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "server/api_error.hpp"
#include "server/handlers/common.hpp"
#include "server/handlers/messages.hpp"

namespace flareq::handlers {
namespace {

constexpr std::int64_t max_delay = 86400;

storage::new_message parse(std::string_view body, std::int64_t max = max_delay) {
  return parse_message(parse_json_body(body), max);
}

// Returns the Cloudflare code that parsing body fails with, or 0.
int failure_code(std::string_view body, std::int64_t max = max_delay) {
  try {
    parse(body, max);
  } catch (const api_error& e) {
    return e.errors().front().code;
  }
  return 0;
}

TEST(push_body_test, text_message) {
  auto m = parse(R"({"body":"hello","content_type":"text"})");
  EXPECT_EQ(m.type, storage::content_type::text);
  EXPECT_EQ(m.body, "hello");
  EXPECT_FALSE(m.delay_seconds);
}

TEST(push_body_test, json_is_the_default_and_stored_compact) {
  auto m = parse(R"({ "body" : { "a" : [1, 2, {"b": null}] , "s":"x y" } })");
  EXPECT_EQ(m.type, storage::content_type::json);
  EXPECT_EQ(m.body, R"({"a":[1,2,{"b":null}],"s":"x y"})");
  EXPECT_EQ(parse(R"({"body":"str","content_type":"json"})").body, R"("str")");
  EXPECT_EQ(parse(R"({"body":null})").body, "null");
  EXPECT_EQ(parse(R"({"body":42})").body, "42");
}

TEST(push_body_test, text_size_counts_utf8_bytes) {
  auto m = parse(R"({"body":"h\u00e9llo \u20ac","content_type":"text"})");
  EXPECT_EQ(m.body, "h\xc3\xa9llo \xe2\x82\xac");
  EXPECT_EQ(storage::message_size(m.body), 10);
}

TEST(push_body_test, unknown_keys_are_ignored) {
  EXPECT_EQ(parse(R"({"body":"x","content_type":"text","extra":{"y":1}})").body, "x");
}

TEST(push_body_test, delays) {
  EXPECT_EQ(parse(R"({"body":1,"delay_seconds":0})").delay_seconds, 0);
  EXPECT_EQ(parse(R"({"body":1,"delay_seconds":30})").delay_seconds, 30);
  EXPECT_EQ(parse(R"({"body":1,"delay_seconds":86400})").delay_seconds, 86400);
  EXPECT_EQ(parse(R"({"body":1,"delay_seconds":5.0})").delay_seconds, 5);
  EXPECT_FALSE(parse(R"({"body":1,"delay_seconds":null})").delay_seconds);
  EXPECT_EQ(parse(R"({"body":1,"delay_seconds":43200})", 43200).delay_seconds, 43200);
}

TEST(push_body_test, bad_delays_are_10203) {
  for (const char* body :
       {R"({"body":1,"delay_seconds":-1})", R"({"body":1,"delay_seconds":86401})",
        R"({"body":1,"delay_seconds":1.5})", R"({"body":1,"delay_seconds":"5"})",
        R"({"body":1,"delay_seconds":true})", R"({"body":1,"delay_seconds":[]})",
        R"({"body":1,"delay_seconds":1e300})",
        R"({"body":1,"delay_seconds":18446744073709551615})"}) {
    EXPECT_EQ(failure_code(body), 10203) << body;
  }
  EXPECT_EQ(failure_code(R"({"body":1,"delay_seconds":43201})", 43200), 10203);
}

TEST(push_body_test, bad_content_types_are_10203) {
  for (const char* body :
       {R"({"body":"x","content_type":"bytes"})", R"({"body":"x","content_type":"v8"})",
        R"({"body":"x","content_type":"TEXT"})", R"({"body":"x","content_type":""})",
        R"({"body":"x","content_type":1})", R"({"body":"x","content_type":["text"]})"}) {
    EXPECT_EQ(failure_code(body), 10203) << body;
  }
}

TEST(push_body_test, shape_errors_are_10207) {
  for (const char* body :
       {R"([])", R"("body")", R"(42)", R"(null)", R"({})", R"({"content_type":"text"})",
        R"({"body":1,"content_type":"text"})", R"({"body":{"a":1},"content_type":"text"})",
        R"({"body":null,"content_type":"text"})"}) {
    EXPECT_EQ(failure_code(body), 10207) << body;
  }
}

TEST(push_body_test, invalid_json_is_10208) {
  for (const char* body : {"", "{", "not json", R"({"body":})", "{\"body\":\"\xff\"}",
                           R"({"body":1}{"body":2})", R"({'body':1})"}) {
    EXPECT_EQ(failure_code(body), 10208) << body;
  }
  std::string deep(1000, '[');
  EXPECT_EQ(failure_code(R"({"body":)" + deep + "}"), 10208);
}

TEST(push_body_test, size_limit_is_128000_bytes) {
  auto text = [](std::size_t n) {
    return R"({"content_type":"text","body":")" + std::string(n, 'x') + R"("})";
  };
  EXPECT_EQ(parse(text(128000)).body.size(), 128000u);
  EXPECT_EQ(failure_code(text(128001)), 10204);
  // A json string body counts its quotes.
  auto json = [](std::size_t n) { return R"({"body":")" + std::string(n, 'x') + R"("})"; };
  EXPECT_EQ(parse(json(127998)).body.size(), 128000u);
  EXPECT_EQ(failure_code(json(127999)), 10204);
}

TEST(push_body_test, too_large_is_413) {
  try {
    parse(R"({"content_type":"text","body":")" + std::string(128001, 'x') + R"("})");
    FAIL();
  } catch (const api_error& e) {
    EXPECT_EQ(e.status(), 413);
  }
}

}  // namespace
}  // namespace flareq::handlers
