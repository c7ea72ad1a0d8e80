// JSON as JavaScript reads and writes it, for the request bodies flareq
// parses and the json message bodies it stores and counts. Reading: every
// number is the double nearest to its text (Boost 1.81's own parser can be
// one unit off). Writing, as JSON.stringify does: numbers in their shortest
// round-trip digits with an exponent only outside 1e-7..1e21 (1.5, not
// Boost's 1.5E0), integers beyond 2^53 as the double JavaScript would hold,
// -0 as 0, and object keys that are array indices first, in ascending
// order. Pure functions, safe from any thread.
#pragma once

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>

namespace flareq {

// Deeper JSON is refused rather than risk the stack.
inline constexpr int max_json_depth = 128;

// Parses standard JSON text (one value, nothing after it but white space)
// nested at most max_json_depth deep. Sets ec and returns null on failure.
boost::json::value js_parse(std::string_view text, boost::system::error_code& ec);

// Writes v compactly, as JSON.stringify(JSON.parse(text of v)) would.
std::string js_stringify(const boost::json::value& v);

// Tells whether Boost's serializer would write v otherwise than
// js_stringify: v holds a double, an integer past 2^53, or an object key
// that is an array index. Where it does not, Boost's faster writer serves.
bool boost_differs_from_js(const boost::json::value& v);

// Writes a finite double as JavaScript's Number.prototype.toString() does.
std::string js_number(double d);

}  // namespace flareq
