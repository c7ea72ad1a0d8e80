// json bodies are stored as JavaScript's JSON.stringify writes them. The
// expected texts below were produced by Node (JSON.stringify(JSON.parse(s)));
// tests/compat/json_numbers.test.mjs checks the same against Node at run time.
#include "server/js_json.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <utility>
#include <vector>

#include "server/handlers/common.hpp"
#include "server/handlers/messages.hpp"

namespace flareq {
namespace {

const std::vector<std::pair<std::string, std::string>> node_outputs = {
    {"1.5", "1.5"},
    {"1.5E0", "1.5"},
    {"0.1", "0.1"},
    {"1E-1", "0.1"},
    {"100.0", "100"},
    {"1E2", "100"},
    {"1e21", "1e+21"},
    {"1e20", "100000000000000000000"},
    {"123456789012345680000", "123456789012345680000"},
    {"1e-7", "1e-7"},
    {"1e-6", "0.000001"},
    {"0.000001", "0.000001"},
    {"1.2345e-7", "1.2345e-7"},
    {"-0", "0"},
    {"-0.0", "0"},
    {"0", "0"},
    {"5e-324", "5e-324"},
    {"1.7976931348623157e308", "1.7976931348623157e+308"},
    {"2.5e-5", "0.000025"},
    {"12345678901234567890", "12345678901234567000"},
    {"-9223372036854775808", "-9223372036854776000"},
    {"9007199254740993", "9007199254740992"},
    {"9007199254740992", "9007199254740992"},
    {"-9007199254740993", "-9007199254740992"},
    {"18446744073709551615", "18446744073709552000"},
    {"3.14159", "3.14159"},
    {"1e100", "1e+100"},
    {"-1.5e-10", "-1.5e-10"},
    {"123e-20", "1.23e-18"},
    {"0.1e2", "10"},
    {"[1.0,2.50,-3.125e3]", "[1,2.5,-3125]"},
    {R"({"b":1,"2":2,"1":3,"01":4,"4294967295":5,"4294967294":6,"a":{"x":1e0}})",
     R"({"1":3,"2":2,"4294967294":6,"b":1,"01":4,"4294967295":5,"a":{"x":1}})"},
    {R"("caf\u00e9 \u0001\t/\\")", "\"caf\xc3\xa9 \\u0001\\t/\\\\\""},
    {R"([true,false,null,""])", R"([true,false,null,""])"},
    {R"({"a":1,"a":2,"b":3})", R"({"a":2,"b":3})"},
};

TEST(js_json_test, writes_what_node_writes) {
  for (const auto& [input, expected] : node_outputs) {
    boost::system::error_code ec;
    boost::json::value v = js_parse(input, ec);
    ASSERT_FALSE(ec) << input;
    EXPECT_EQ(js_stringify(v), expected) << input;
  }
}

TEST(js_json_test, parses_as_boost_does_otherwise) {
  for (const char* bad : {"", "[1,]", "{\"a\"}", "1 2", "[1", "nul", "01", "1.", "\"\\x\""}) {
    boost::system::error_code ec;
    js_parse(bad, ec);
    EXPECT_TRUE(ec) << bad;
  }
  boost::system::error_code ec;
  EXPECT_EQ(js_parse(" {\"a\": [1, -2, 3.5, true, null, \"s\"]} \n", ec),
            boost::json::parse(R"({"a":[1,-2,3.5,true,null,"s"]})"));
  EXPECT_FALSE(ec);
  std::string deep(max_json_depth, '[');
  deep += std::string(max_json_depth, ']');
  js_parse(deep, ec);
  EXPECT_FALSE(ec) << max_json_depth << " deep";
  js_parse("[" + deep + "]", ec);
  EXPECT_TRUE(ec) << max_json_depth + 1 << " deep";
}

// A body whose compact JSON is 120,001 bytes is counted as such, not in
// Boost's exponent form (1.5E0: 37,500 bytes more).
TEST(js_json_test, size_limits_count_the_javascript_form) {
  std::string body = "[";
  while (body.size() < 120'000 - 4) body += "1.5,";
  body += "1.5";
  while (body.size() < 120'000) body += "1";
  body += "]";
  ASSERT_EQ(body.size(), 120'001u);
  auto m = handlers::parse_message(parse_json_body(R"({"body":)" + body + "}"), 86400);
  EXPECT_EQ(m.body, body);
  EXPECT_EQ(storage::message_size(m.body), 120'001);
}

}  // namespace
}  // namespace flareq
