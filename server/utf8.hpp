// Request bytes on their way into JSON (error messages, log lines) must be
// valid UTF-8 (RFC 8259 §8.1): this replaces every byte that does not begin
// a well-formed sequence with U+FFFD. Pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace flareq {

// Tells whether text is well-formed UTF-8 (no overlong forms, surrogates or
// code points past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Returns text with each ill-formed byte replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

}  // namespace flareq
