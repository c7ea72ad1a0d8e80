// Query strings: the values of a key, percent-decoded, and whole numbers
// with their limits (errors say they are about a query parameter).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flareq::handlers {

// Returns every value of key in the target's query string, percent-decoded.
std::vector<std::string> query_values(std::string_view target, std::string_view key);

// Reads the last value of key in the query string as a whole number from 1
// to hi; fallback when absent. Throws api_error(query_invalid).
std::int64_t query_whole_number(std::string_view target, std::string_view key,
                                std::int64_t fallback, std::int64_t hi);

}  // namespace flareq::handlers
