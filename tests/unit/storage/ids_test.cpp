// Ids and timestamps.
#include "storage/ids.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace flareq::storage {
namespace {

TEST(ids_test, hex_ids_are_32_lowercase_hex) {
  system_random random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = hex_id(random);
    EXPECT_TRUE(std::regex_match(id, std::regex("^[0-9a-f]{32}$"))) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ids_test, seeded_random_repeats) {
  seeded_random a(7), b(7), c(8);
  std::string first = hex_id(a);
  EXPECT_EQ(first, hex_id(b));
  EXPECT_NE(first, hex_id(c));
  EXPECT_NE(first, hex_id(a));
}

TEST(ids_test, time_ordered_ids_sort_by_time) {
  seeded_random random(5);
  std::string a = time_ordered_id(1'795'981'552'123, random);
  std::string b = time_ordered_id(1'795'981'552'124, random);
  std::string c = time_ordered_id(1'795'981'552'124, random);
  for (const auto& id : {a, b, c}) {
    EXPECT_TRUE(std::regex_match(id, std::regex("^[0-9a-f]{32}$"))) << id;
  }
  EXPECT_LT(a, b);
  EXPECT_NE(b, c);
  EXPECT_EQ(a.substr(0, 12), "01a228d7a9fb");  // 1795981552123 in hex
}

TEST(ids_test, rfc3339_with_microseconds) {
  EXPECT_EQ(format_rfc3339_us(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339_us(1'795'981'552'123'456), "2026-11-29T19:45:52.123456Z");
}

}  // namespace
}  // namespace flareq::storage
