// Ids and timestamps.
#include "storage/ids.hpp"

#include <gtest/gtest.h>

#include <limits>
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

TEST(ids_test, message_ids_name_their_seq_and_tail_and_look_random) {
  seeded_random random(5);
  for (std::int64_t seq : {std::int64_t{1}, std::int64_t{2}, std::int64_t{1'000'000},
                           std::numeric_limits<std::int64_t>::max()}) {
    std::int64_t tail = random_id_tail(random);
    std::string id = message_id(seq, tail);
    EXPECT_TRUE(std::regex_match(id, std::regex("^[0-9a-f]{32}$"))) << id;
    auto parts = parse_message_id(id);
    ASSERT_TRUE(parts.has_value()) << id;
    EXPECT_EQ(parts->seq, seq);
    EXPECT_EQ(parts->id_tail, tail);
    // The two halves differ in many places, not in the seq's few low bits.
    int same = 0;
    for (std::size_t i = 0; i < 16; ++i) same += id[i] == id[16 + i] ? 1 : 0;
    EXPECT_LT(same, 8) << id;
  }
  // Neighbouring seqs with the same tail give unrelated-looking first halves
  // only in their low digits; different tails give different ids.
  EXPECT_NE(message_id(1, 7), message_id(1, 8));
  EXPECT_NE(message_id(1, 7), message_id(2, 7));
}

TEST(ids_test, message_ids_that_name_no_seq_are_refused) {
  EXPECT_FALSE(parse_message_id(""));
  EXPECT_FALSE(parse_message_id(std::string(31, 'a')));
  EXPECT_FALSE(parse_message_id(std::string(33, 'a')));
  EXPECT_FALSE(parse_message_id(std::string(32, 'A')));  // lowercase only
  EXPECT_FALSE(parse_message_id(std::string(31, '0') + "g"));
  // seq 0 and negative seqs name no message.
  std::string zero = message_id(0, 42);
  EXPECT_FALSE(parse_message_id(zero)) << zero;
  EXPECT_FALSE(parse_message_id(message_id(-5, 42)));
}

TEST(ids_test, rfc3339_with_microseconds) {
  EXPECT_EQ(format_rfc3339_us(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339_us(1'795'981'552'123'456), "2026-11-29T19:45:52.123456Z");
}

}  // namespace
}  // namespace flareq::storage
